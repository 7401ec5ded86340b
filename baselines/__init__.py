"""Model implementations; importing this package registers every model (see talkingub.models)."""
