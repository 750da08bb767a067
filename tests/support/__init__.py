"""Code the tests share (not tests): paths, the bot harness wrapper, drivers and kits."""
