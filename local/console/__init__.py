"""The local console: every execution on its state graph, live (served by `make local` at GET /)."""
