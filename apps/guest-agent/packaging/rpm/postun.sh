# %postun of {{package}}: what %systemd_postun_with_restart does: systemd rereads its units,
# and after an upgrade a running agent restarts on the new files. After a swap to the other
# form ({{other}} is there), the running agent restarts as that form.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || :
fi
if [ "$1" -ge 1 ] || [ -e {{other}} ]; then
	systemctl try-restart kvp-agent.service >/dev/null 2>&1 || :
fi
