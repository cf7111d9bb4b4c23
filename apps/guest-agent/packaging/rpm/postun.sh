# %postun of {{package}}: what %systemd_postun_with_restart does: systemd rereads its units,
# and after an upgrade a running agent restarts on the new files. After a swap to the other
# form ({{other}} is there), the running agent restarts as that form.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || :
fi
if [ "$1" -ge 1 ] || [ -e {{other}} ]; then
	systemctl try-restart kvp-agent.service >/dev/null 2>&1 || :
fi
# Erased, not swapped: the compile cache root's runs of the programs left (the service's, as
# root without a home) goes with them; it is only ever a cache.
if [ "$1" -eq 0 ] && [ ! -e {{other}} ]; then
	rm -rf /var/cache/hyperv-kvp
fi
