"""Operating sopbot: calendar coverage, health, metrics and their HTTP endpoint."""
