"""Settings from the environment and the wiring of real parts (DB, Redis, WeChat) into the domain."""
