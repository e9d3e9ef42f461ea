# bash completion for crm
