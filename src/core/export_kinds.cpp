#include <crm/export.hpp>

#include <array>

namespace crm {

namespace {

using T = ColumnType;

// Tags come sorted, separated by the unit separator (a tag may hold ';').
constexpr std::array k_contact_columns = {
    ExportColumn{"id", "c.id", T::integer},
    ExportColumn{"external_id", "c.external_id"},
    ExportColumn{"email", "c.email"},
    ExportColumn{"phone", "c.phone"},
    ExportColumn{"first_name", "c.first_name"},
    ExportColumn{"last_name", "c.last_name"},
    ExportColumn{"company", "c.company"},
    ExportColumn{"street", "c.street"},
    ExportColumn{"postcode", "c.postcode"},
    ExportColumn{"city", "c.city"},
    ExportColumn{"country", "c.country"},
    ExportColumn{"birthdate", "c.birthdate"},
    ExportColumn{"stage", "c.stage"},
    ExportColumn{"owner", "c.owner"},
    ExportColumn{"source", "c.source"},
    ExportColumn{"created_at", "c.created_at"},
    ExportColumn{"updated_at", "c.updated_at"},
    ExportColumn{"tags",
                 "(SELECT group_concat(t.tag, char(31)) FROM contact_tag t WHERE t.contact_id = "
                 "c.id)",
                 T::tags},
};

constexpr std::array k_event_columns = {
    ExportColumn{"id", "x.id", T::integer},
    ExportColumn{"contact_id", "x.contact_id", T::integer},
    ExportColumn{"touchpoint", "x.touchpoint"},
    ExportColumn{"channel", "x.channel"},
    ExportColumn{"phase", "x.phase"},
    ExportColumn{"at", "x.at"},
    ExportColumn{"amount", "x.amount", T::money},
    ExportColumn{"rating", "x.rating", T::integer},
    ExportColumn{"campaign", "x.campaign"},
    ExportColumn{"attrs", "x.attrs"},
    ExportColumn{"batch_id", "x.batch_id", T::integer},
};

constexpr std::array k_consent_columns = {
    ExportColumn{"id", "x.id", T::integer}, ExportColumn{"contact_id", "x.contact_id", T::integer},
    ExportColumn{"purpose", "x.purpose"},   ExportColumn{"channel", "x.channel"},
    ExportColumn{"action", "x.action"},     ExportColumn{"at", "x.at"},
    ExportColumn{"source", "x.source"},     ExportColumn{"proof", "x.proof"},
    ExportColumn{"digest", "x.digest"},
};

constexpr std::array k_score_columns = {
    ExportColumn{"contact_id", "x.contact_id", T::integer},
    ExportColumn{"model", "x.model"},
    ExportColumn{"value", "x.value", T::real},
    ExportColumn{"label", "x.label"},
    ExportColumn{"at", "x.at"},
};

constexpr std::array k_task_columns = {
    ExportColumn{"id", "x.id", T::integer}, ExportColumn{"contact_id", "x.contact_id", T::integer},
    ExportColumn{"owner", "x.owner"},       ExportColumn{"due_at", "x.due_at"},
    ExportColumn{"text", "x.text"},         ExportColumn{"created_at", "x.created_at"},
    ExportColumn{"done_at", "x.done_at"},
};

constexpr std::array k_run_columns = {
    ExportColumn{"id", "x.id", T::integer},           ExportColumn{"campaign", "x.campaign"},
    ExportColumn{"run_id", "x.run_id"},               ExportColumn{"at", "x.at"},
    ExportColumn{"members", "x.members", T::integer}, ExportColumn{"holdout", "x.holdout", T::integer},
};

constexpr std::array k_member_columns = {
    ExportColumn{"run", "x.run", T::integer},
    ExportColumn{"contact_id", "x.contact_id", T::integer},
    ExportColumn{"campaign", "x.campaign"},
    ExportColumn{"at", "x.at"},
    ExportColumn{"variant", "x.variant"},
    ExportColumn{"holdout", "x.holdout", T::integer},
};

const std::array k_kinds = {
    ExportKind{"contacts", "contacts with tags (attr.NAME, attr.* on request)", "contact",
               "contact c", "c.id", "created_at", k_contact_columns, true},
    ExportKind{"events", "journey events", "event", "event x", "x.id", "at", k_event_columns},
    ExportKind{"consents", "consent ledger entries", "consent", "consent x", "x.id", "at",
               k_consent_columns},
    ExportKind{"scores", "scores per contact and model", "score", "score x",
               "x.contact_id, x.model, x.at", "at", k_score_columns},
    ExportKind{"runs", "campaign runs", "campaign_run", "campaign_run x", "x.id", "at",
               k_run_columns},
    ExportKind{"members", "campaign members", "campaign_member", "campaign_member x",
               "x.run, x.contact_id", "", k_member_columns},
    ExportKind{"tasks", "follow-up tasks", "task", "task x", "x.id", "due_at", k_task_columns},
};

} // namespace

std::span<const ExportKind> export_kinds() { return k_kinds; }

const ExportKind* find_export_kind(std::string_view name) {
  for (const auto& kind : k_kinds)
    if (kind.name == name)
      return &kind;
  return nullptr;
}

} // namespace crm
