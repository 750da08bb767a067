"""sopbot: runs Indonesian regional-government SOPs in Telegram."""
