"""The agent desktop's and supervisor console's server side: agent functions checked and recorded
(``service``), the screen-pop of an offered call (``screenpop``)."""
