require ["variables", "fileinto", "regex"];
if header :matches "List-Id" "*<*@*" { set :lower "l" "${2}"; fileinto "lists.${l}"; stop; }
if header :regex "subject" "^\\[(.*)\\]" { fileinto "${1}"; }
