#include "migrations.hpp"

#include <array>

namespace crm {

namespace {

// 1: contacts, their attributes, tags, notes, history and the full-text index.
constexpr std::string_view k_contacts = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- AUTOINCREMENT: an id is never given twice, so a script holding the id of a
-- deleted or erased person can never reach someone else.
CREATE TABLE contact (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  external_id  TEXT UNIQUE,
  email        TEXT,
  email_norm   TEXT,
  phone        TEXT,
  first_name   TEXT,
  last_name    TEXT,
  company      TEXT,
  street       TEXT,
  postcode     TEXT,
  city         TEXT,
  country      TEXT,
  birthdate    TEXT,
  stage        TEXT,
  stage_manual INTEGER NOT NULL DEFAULT 0,
  owner        TEXT,
  source       TEXT,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL
) STRICT;
CREATE INDEX contact_by_email ON contact(email_norm);
CREATE INDEX contact_by_phone ON contact(phone);

CREATE TABLE contact_attr (
  contact_id INTEGER NOT NULL REFERENCES contact(id),
  key        TEXT NOT NULL,
  value      TEXT NOT NULL,
  PRIMARY KEY (contact_id, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE contact_tag (
  contact_id INTEGER NOT NULL REFERENCES contact(id),
  tag        TEXT NOT NULL,
  PRIMARY KEY (contact_id, tag)
) STRICT, WITHOUT ROWID;
CREATE INDEX contact_tag_by_tag ON contact_tag(tag);

CREATE TABLE note (
  id         INTEGER PRIMARY KEY,
  contact_id INTEGER NOT NULL REFERENCES contact(id),
  body       TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
CREATE INDEX note_by_contact ON note(contact_id);

CREATE TABLE history (
  id         INTEGER PRIMARY KEY,
  contact_id INTEGER NOT NULL REFERENCES contact(id),
  at         TEXT NOT NULL,
  action     TEXT NOT NULL,
  source     TEXT,
  detail     TEXT
) STRICT;
CREATE INDEX history_by_contact ON history(contact_id, id);

CREATE VIRTUAL TABLE contact_fts USING fts5(
  name, email, company, city, notes,
  tokenize = 'unicode61 remove_diacritics 2',
  prefix = '2 3'
);

-- A bulk import sets meta 'fts_deferred' inside its transaction and brings
-- the index up to date once per batch: row by row, FTS5 would flush its
-- pending terms at every statement.
CREATE TRIGGER contact_fts_insert AFTER INSERT ON contact
WHEN NOT EXISTS (SELECT 1 FROM meta WHERE key = 'fts_deferred') BEGIN
  INSERT INTO contact_fts(rowid, name, email, company, city, notes)
  VALUES (new.id, trim(coalesce(new.first_name, '') || ' ' || coalesce(new.last_name, '')),
          new.email, new.company, new.city, NULL);
END;
CREATE TRIGGER contact_fts_update
AFTER UPDATE OF first_name, last_name, email, company, city ON contact
WHEN NOT EXISTS (SELECT 1 FROM meta WHERE key = 'fts_deferred') BEGIN
  UPDATE contact_fts
  SET name = trim(coalesce(new.first_name, '') || ' ' || coalesce(new.last_name, '')),
      email = new.email, company = new.company, city = new.city
  WHERE rowid = new.id;
END;
CREATE TRIGGER contact_fts_delete AFTER DELETE ON contact BEGIN
  DELETE FROM contact_fts WHERE rowid = old.id;
END;
CREATE TRIGGER note_fts_insert AFTER INSERT ON note BEGIN
  UPDATE contact_fts
  SET notes = (SELECT group_concat(body, ' ') FROM note WHERE contact_id = new.contact_id)
  WHERE rowid = new.contact_id;
END;
CREATE TRIGGER note_fts_delete AFTER DELETE ON note BEGIN
  UPDATE contact_fts
  SET notes = (SELECT group_concat(body, ' ') FROM note WHERE contact_id = old.contact_id)
  WHERE rowid = old.contact_id;
END;
)sql";

// 2: import batches, and what each changed, so an import can be undone.
constexpr std::string_view k_imports = R"sql(
CREATE TABLE import_batch (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  kind        TEXT NOT NULL,
  source      TEXT,
  profile     TEXT,
  started_at  TEXT NOT NULL,
  finished_at TEXT,
  inserted    INTEGER NOT NULL DEFAULT 0,
  updated     INTEGER NOT NULL DEFAULT 0,
  unchanged   INTEGER NOT NULL DEFAULT 0,
  rejected    INTEGER NOT NULL DEFAULT 0
) STRICT;

-- One row per contact an import created or changed; `before` is the
-- contact as it was (JSON), for undo. It holds personal data.
CREATE TABLE import_change (
  batch_id   INTEGER NOT NULL REFERENCES import_batch(id),
  contact_id INTEGER NOT NULL REFERENCES contact(id),
  action     TEXT NOT NULL,
  before     TEXT,
  PRIMARY KEY (batch_id, contact_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX import_change_by_contact ON import_change(contact_id);
)sql";

// 3: when an import batch was undone (crm contact import --undo).
constexpr std::string_view k_import_undo = R"sql(
ALTER TABLE import_batch ADD COLUMN undone_at TEXT;
)sql";

// 4: pairs of contacts marked "not a duplicate" (crm contact dedupe --ignore).
constexpr std::string_view k_dedupe = R"sql(
CREATE TABLE dedupe_ignore (
  contact_a INTEGER NOT NULL REFERENCES contact(id),
  contact_b INTEGER NOT NULL REFERENCES contact(id),
  at        TEXT NOT NULL,
  PRIMARY KEY (contact_a, contact_b),
  CHECK (contact_a < contact_b)
) STRICT, WITHOUT ROWID;
CREATE INDEX dedupe_ignore_by_b ON dedupe_ignore(contact_b);
)sql";

// 5: follow-up tasks (crm contact task); contacts' owners are contact.owner.
constexpr std::string_view k_tasks = R"sql(
CREATE TABLE task (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  contact_id INTEGER NOT NULL REFERENCES contact(id),
  owner      TEXT,
  due_at     TEXT NOT NULL,
  text       TEXT NOT NULL,
  created_at TEXT NOT NULL,
  done_at    TEXT
) STRICT;
CREATE INDEX task_by_contact ON task(contact_id);
CREATE INDEX task_open_by_due ON task(due_at) WHERE done_at IS NULL;
CREATE INDEX contact_by_owner ON contact(owner);
)sql";

// 6: journey events (crm journey); one row per touchpoint a contact went through.
// The identity index makes a re-import of the same file add nothing: an event
// is the same event when its contact, touchpoint, time, channel, phase and
// campaign are. amount is in cents, rating 0-10, attrs a JSON object.
constexpr std::string_view k_journey = R"sql(
CREATE TABLE event (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  contact_id INTEGER NOT NULL REFERENCES contact(id),
  touchpoint TEXT NOT NULL,
  channel    TEXT,
  phase      TEXT,
  at         TEXT NOT NULL,
  amount     INTEGER,
  rating     INTEGER CHECK (rating IS NULL OR rating BETWEEN 0 AND 10),
  campaign   TEXT,
  attrs      TEXT NOT NULL DEFAULT '{}',
  batch_id   INTEGER
) STRICT;
CREATE UNIQUE INDEX event_identity ON event(contact_id, touchpoint, at, ifnull(channel, ''),
                                            ifnull(phase, ''), ifnull(campaign, ''));
CREATE INDEX event_by_contact_at ON event(contact_id, at);
CREATE INDEX event_by_touchpoint ON event(touchpoint, at);
CREATE INDEX event_by_batch ON event(batch_id) WHERE batch_id IS NOT NULL;
)sql";

// 7: the consent ledger (crm consent) and erasure tombstones (crm contact erase).
// The ledger is append-only: triggers refuse every DELETE, and every UPDATE
// except the one erasure makes (meta 'erasing' set inside its transaction),
// which may only blank the personal content (contact, source, proof) and
// stamp erased_at; digests and chain stay, so `crm consent verify` still
// walks the whole chain. purpose NULL: an objection to every purpose;
// channel NULL: every channel of the purpose. token: SHA-256 of a double
// opt-in request's token. consent_head in meta holds the last id and chain,
// so entries removed from the end are noticed too.
constexpr std::string_view k_consent = R"sql(
CREATE TABLE consent (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  contact_id  INTEGER REFERENCES contact(id),
  purpose     TEXT,
  channel     TEXT,
  action      TEXT NOT NULL
              CHECK (action IN ('grant', 'withdraw', 'object', 'request', 'confirm')),
  at          TEXT NOT NULL,
  source      TEXT,
  proof       TEXT,
  token       TEXT,
  recorded_at TEXT NOT NULL,
  digest      TEXT NOT NULL,
  chain       TEXT NOT NULL,
  erased_at   TEXT,
  CHECK (purpose IS NOT NULL OR action = 'object')
) STRICT;
CREATE INDEX consent_by_contact ON consent(contact_id, purpose, at);
CREATE INDEX consent_by_token ON consent(token) WHERE token IS NOT NULL;
CREATE TRIGGER consent_no_delete BEFORE DELETE ON consent BEGIN
  SELECT RAISE(ABORT, 'the consent ledger is append-only');
END;
CREATE TRIGGER consent_no_update BEFORE UPDATE ON consent
WHEN NOT EXISTS (SELECT 1 FROM meta WHERE key = 'erasing')
  OR new.id IS NOT old.id OR new.purpose IS NOT old.purpose OR new.channel IS NOT old.channel
  OR new.action IS NOT old.action OR new.at IS NOT old.at OR new.token IS NOT old.token
  OR new.recorded_at IS NOT old.recorded_at OR new.digest IS NOT old.digest
  OR new.chain IS NOT old.chain OR new.contact_id IS NOT NULL OR new.source IS NOT NULL
  OR new.proof IS NOT NULL OR new.erased_at IS NULL
BEGIN
  SELECT RAISE(ABORT, 'the consent ledger is append-only');
END;

CREATE TABLE erasure (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  at         TEXT NOT NULL,
  email_hmac TEXT,
  phone_hmac TEXT
) STRICT;
CREATE INDEX erasure_by_email ON erasure(email_hmac) WHERE email_hmac IS NOT NULL;
CREATE INDEX erasure_by_phone ON erasure(phone_hmac) WHERE phone_hmac IS NOT NULL;
INSERT INTO meta (key, value) VALUES ('erasure_secret', lower(hex(randomblob(32))));
)sql";

// 8: scores (crm score); one row per contact and model, replaced by each run
// of the model, and the parts that add up to it, in order, each with the
// reason in words. value and points are fixed-point with two decimals. The
// keys lead with the model, so that a run replaces one contiguous range of
// each table; the contact indexes serve delete, merge and erase.
constexpr std::string_view k_scores = R"sql(
CREATE TABLE score (
  contact_id INTEGER NOT NULL REFERENCES contact(id),
  model      TEXT NOT NULL,
  value      REAL,
  label      TEXT,
  at         TEXT NOT NULL,
  PRIMARY KEY (model, contact_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX score_by_contact ON score(contact_id);
CREATE TABLE score_part (
  contact_id INTEGER NOT NULL REFERENCES contact(id),
  model      TEXT NOT NULL,
  ord        INTEGER NOT NULL,
  points     REAL NOT NULL,
  reason     TEXT NOT NULL,
  PRIMARY KEY (model, contact_id, ord)
) STRICT, WITHOUT ROWID;
CREATE INDEX score_part_by_contact ON score_part(contact_id);
)sql";

// 9: campaigns (crm campaign): one row per recorded run of a campaign (its
// run id unique per campaign, so a retried cron job finds its run), the
// contacts each run chose (holdout = 1: the control group, never sent to),
// the responses to a run, and the contacts whose address on a channel
// bounced for good. A member repeats its run's campaign and time so that
// caps, pressure and in_campaign() count memberships from one index.
constexpr std::string_view k_campaigns = R"sql(
CREATE TABLE campaign_run (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  campaign TEXT NOT NULL,
  run_id   TEXT NOT NULL,
  at       TEXT NOT NULL,
  members  INTEGER NOT NULL,
  holdout  INTEGER NOT NULL,
  UNIQUE (campaign, run_id)
) STRICT;
CREATE TABLE campaign_member (
  run        INTEGER NOT NULL REFERENCES campaign_run(id),
  contact_id INTEGER NOT NULL REFERENCES contact(id),
  campaign   TEXT NOT NULL,
  at         TEXT NOT NULL,
  variant    TEXT,
  holdout    INTEGER NOT NULL CHECK (holdout IN (0, 1)),
  PRIMARY KEY (run, contact_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX campaign_member_by_contact ON campaign_member(contact_id, at);
CREATE TABLE campaign_response (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  run        INTEGER NOT NULL REFERENCES campaign_run(id),
  contact_id INTEGER NOT NULL REFERENCES contact(id),
  type       TEXT NOT NULL,
  at         TEXT NOT NULL,
  amount     INTEGER
) STRICT;
CREATE INDEX campaign_response_by_run ON campaign_response(run, type);
CREATE INDEX campaign_response_by_contact ON campaign_response(contact_id);
CREATE TABLE undeliverable (
  contact_id INTEGER NOT NULL REFERENCES contact(id),
  channel    TEXT NOT NULL,
  at         TEXT NOT NULL,
  source     TEXT,
  PRIMARY KEY (contact_id, channel)
) STRICT, WITHOUT ROWID;
)sql";

// 10: a response is recorded once (crm campaign respond, import-responses):
// the same run, contact, type and time again is the same response.
constexpr std::string_view k_response_identity = R"sql(
CREATE UNIQUE INDEX campaign_response_identity ON campaign_response(run, contact_id, type, at);
)sql";

// 11: event indexes that an import, whose rows run by contact and time,
// appends to (a load of 10M events spent a third of its time on the sort
// that rebuilt the touchpoint index). The identity index leads with contact
// and time, so it also serves what event_by_contact_at did (a contact's
// timeline, scans by contact and time); the same columns identify an event
// as before. The touchpoint index runs by contact within a touchpoint, the
// order in which the scores read a touchpoint's events.
constexpr std::string_view k_event_order = R"sql(
DROP INDEX event_by_contact_at;
DROP INDEX event_identity;
DROP INDEX event_by_touchpoint;
CREATE UNIQUE INDEX event_identity ON event(contact_id, at, touchpoint, ifnull(channel, ''),
                                            ifnull(phase, ''), ifnull(campaign, ''));
CREATE INDEX event_by_touchpoint ON event(touchpoint, contact_id, at);
)sql";

// 12: a smaller full-text index, which an import of 1M contacts wrote 205 MB
// of (9 s of its 24): no prefix indexes (a prefix query over the terms is as
// fast at 1M contacts), no copy of the text (the index reads it from the
// view contact_fts_source, "external content") and no column sizes (the
// ranking does not use them). 46 MB at 1M contacts.
//
// With external content, FTS5 removes a row by reading its text from the
// view, so a row leaves the index BEFORE its text changes and comes back
// AFTER; notes are part of a contact's row, hence the note triggers.
constexpr std::string_view k_fts_external = R"sql(
DROP TRIGGER contact_fts_insert;
DROP TRIGGER contact_fts_update;
DROP TRIGGER contact_fts_delete;
DROP TRIGGER note_fts_insert;
DROP TRIGGER note_fts_delete;
DROP TABLE contact_fts;
DELETE FROM meta WHERE key = 'fts_deferred';
CREATE VIEW contact_fts_source AS
SELECT c.id AS id,
       trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')) AS name,
       c.email AS email, c.company AS company, c.city AS city,
       (SELECT group_concat(body, ' ')
        FROM (SELECT body FROM note WHERE contact_id = c.id ORDER BY id)) AS notes
FROM contact c;
CREATE VIRTUAL TABLE contact_fts USING fts5(
  name, email, company, city, notes,
  content = 'contact_fts_source', content_rowid = 'id', columnsize = 0,
  tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO contact_fts(contact_fts) VALUES ('rebuild');
CREATE TRIGGER contact_fts_insert AFTER INSERT ON contact BEGIN
  INSERT INTO contact_fts(rowid, name, email, company, city, notes)
  SELECT * FROM contact_fts_source WHERE id = new.id;
END;
CREATE TRIGGER contact_fts_unindex
BEFORE UPDATE OF first_name, last_name, email, company, city ON contact BEGIN
  DELETE FROM contact_fts WHERE rowid = old.id;
END;
CREATE TRIGGER contact_fts_reindex
AFTER UPDATE OF first_name, last_name, email, company, city ON contact BEGIN
  INSERT INTO contact_fts(rowid, name, email, company, city, notes)
  SELECT * FROM contact_fts_source WHERE id = new.id;
END;
CREATE TRIGGER contact_fts_delete BEFORE DELETE ON contact BEGIN
  DELETE FROM contact_fts WHERE rowid = old.id;
END;
CREATE TRIGGER note_fts_insert_unindex BEFORE INSERT ON note BEGIN
  DELETE FROM contact_fts WHERE rowid = new.contact_id;
END;
CREATE TRIGGER note_fts_insert_reindex AFTER INSERT ON note BEGIN
  INSERT INTO contact_fts(rowid, name, email, company, city, notes)
  SELECT * FROM contact_fts_source WHERE id = new.contact_id;
END;
CREATE TRIGGER note_fts_update_unindex BEFORE UPDATE OF contact_id, body ON note BEGIN
  DELETE FROM contact_fts WHERE rowid IN (old.contact_id, new.contact_id);
END;
CREATE TRIGGER note_fts_update_reindex AFTER UPDATE OF contact_id, body ON note BEGIN
  INSERT INTO contact_fts(rowid, name, email, company, city, notes)
  SELECT * FROM contact_fts_source WHERE id IN (old.contact_id, new.contact_id);
END;
CREATE TRIGGER note_fts_delete_unindex BEFORE DELETE ON note BEGIN
  DELETE FROM contact_fts WHERE rowid = old.contact_id;
END;
CREATE TRIGGER note_fts_delete_reindex AFTER DELETE ON note BEGIN
  INSERT INTO contact_fts(rowid, name, email, company, city, notes)
  SELECT * FROM contact_fts_source WHERE id = old.contact_id;
END;
)sql";

// 13: the contacts an import created, as ranges of ids (one row per 16k
// contacts) instead of an import_change row each: within an import's
// transaction only it writes contacts, and ids only grow, so a range holds
// exactly the contacts it created. A range names no one; undo takes the
// contacts of the range that still exist.
constexpr std::string_view k_import_created = R"sql(
CREATE TABLE import_created (
  batch_id INTEGER NOT NULL REFERENCES import_batch(id),
  first_id INTEGER NOT NULL,
  last_id  INTEGER NOT NULL,
  PRIMARY KEY (batch_id, first_id)
) STRICT, WITHOUT ROWID;
)sql";

constexpr std::array k_migrations = {
    k_contacts,    k_imports,      k_import_undo,   k_dedupe,    k_tasks,
    k_journey,     k_consent,      k_scores,        k_campaigns, k_response_identity,
    k_event_order, k_fts_external, k_import_created};

} // namespace

std::span<const std::string_view> migrations() { return k_migrations; }

} // namespace crm
