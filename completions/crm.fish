# fish completion for crm
