"""Stand-ins for the outside world that tests talk to over real sockets."""
