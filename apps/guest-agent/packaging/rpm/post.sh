# %post of {{package}}: what %systemd_post does, written out (the systemd RPM macros are
# not where this package is built). On a first install the unit is enabled or not as the
# system's presets say; the package's own preset (80-kvp-agent.preset) enables it. Not
# started now, as RPM packages do: at the next boot, or `systemctl start kvp-agent`.
# `systemctl preset` only writes links, so it works in an image's build root too.
if [ "$1" -eq 1 ]; then
	systemctl --no-reload preset kvp-agent.service >/dev/null 2>&1 || :
fi
