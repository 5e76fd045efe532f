require ["date", "index", "relational", "comparator-i;ascii-numeric", "editheader", "encoded-character", "body", "duplicate", "environment", "spamtest", "mailbox", "include", "subaddress", "reject"];
/* all of it */
if allof (date :index 1 :zone "+0100" "date" "hour" "10", currentdate :value "ge" "year" "2020",
  spamtest :value "ge" :comparator "i;ascii-numeric" "5", not duplicate :seconds 60, environment :contains "name" "t",
  body :content "text" :contains "x", address :detail "to" "tag", mailboxexists "Junk", header :count "gt" "received" "3") {
  addheader :last "X-${hex:41}" "1"; deleteheader :index 1 :contains "x-a" "1"; include :optional :once "x"; reject "no";
}
