"""Starting the services: their command lines, supervisord for `make run`, local stacks for tests (developers)."""
