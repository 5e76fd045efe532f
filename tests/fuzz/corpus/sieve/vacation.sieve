require ["vacation", "vacation-seconds"];
vacation :seconds 3600 :subject "away" :from "me@example.org" :addresses ["a@b.c"] :handle "h" text:
I am away.
..dots
.
;
