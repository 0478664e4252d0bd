"""Call control: what agents and supervisors do to answered calls (``base``), on simulated phones
(``simulated``) or Asterisk's manager interface (``telephony.ami``)."""
