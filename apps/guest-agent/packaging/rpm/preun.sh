# %preun of {{package}}: on erase (not upgrade), what %systemd_preun does (disable and stop
# the unit), then `kvp-agent forget`, as the .deb's prerm: it removes the agent's
# kvp-agent/* records from the KVP daemon's pool 1, so the host stops seeing the status of
# an agent that is gone; other writers' records stay. Nothing here may fail the erase.
#
# Skipped when the other form is being installed in the same transaction (dnf swap kvp-agent
# kvp-agent-standalone, or back): its files are in place by now ({{other}}), and it uses
# the same unit and records.
if [ "$1" -eq 0 ] && [ ! -e {{other}} ]; then
	systemctl --no-reload disable --now kvp-agent.service >/dev/null 2>&1 || :
	if [ -x /usr/bin/kvp-agent ]; then
		/usr/bin/kvp-agent forget || echo "kvp-agent: warning: could not remove the agent's records from pool 1 (see above); they stay until the daemon's file is reset" >&2
	fi
fi
