"""What both of our services share: the Granian serving loop with its graceful drain
(``servicekit.serving``) and one-line JSON logs (``servicekit.logs``)."""
