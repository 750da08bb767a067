"""Pure workflow engine: flow model, validation, instances, calendar. No I/O."""
