require ["fileinto", "copy", "imap4flags"];
if header :contains "subject" "money" {
  fileinto :copy :flags "\\Seen" "Junk";
} elsif address :domain :is "from" "example.com" { keep; } else { discard; }
