#!/bin/sh
# Restore drill: prove that a backup can be restored, without touching the running bot.
#
#   deploy/restore-drill.sh /var/backups/sopbot/2026-03-01
#
# Restores the backup into a scratch data directory (sopbot restore reads every record and
# refuses a backup that does not read), then backs the scratch copy up again, which opens the
# restored files like the bot would. Exit 0 and one line when the backup is good; otherwise
# sopbot's own message and a non-zero status. Run it monthly, and after every upgrade.
set -eu

if [ "$#" -ne 1 ] || [ ! -d "$1" ]; then
    echo "usage: $0 BACKUP_DIR (a directory written by sopbot backup)" >&2
    exit 2
fi
backup="$1"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/sopbot-drill.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT INT TERM

SOPBOT_DATA_DIR="$scratch/data" sopbot restore "$backup" >/dev/null
SOPBOT_DATA_DIR="$scratch/data" sopbot backup "$scratch/again" >/dev/null
files="$(find "$scratch/data" -maxdepth 1 -name '*.json' | wc -l | tr -d ' ')"
echo "restore drill passed: $backup ($files data files)"
