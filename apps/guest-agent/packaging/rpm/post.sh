# %post of {{package}}: what %systemd_post does, written out (the systemd RPM macros are
# not where this package is built). On a first install the unit is enabled or not as the
# system's presets say; the package's own preset (80-kvp-agent.preset) enables it. Not
# started now, as RPM packages do: at the next boot, or `systemctl start kvp-agent`.
# `systemctl preset` only writes links, so it works in an image's build root too.
if [ "$1" -eq 1 ]; then
	systemctl --no-reload preset kvp-agent.service >/dev/null 2>&1 || :
fi
# A config this version refuses (its rules can be stricter than the last one's: an env.prefix
# of "KVP_" is) keeps the agent from starting: say so in the install's output, naming the
# field, without failing the install (the .deb's postinst does the same).
if [ -e /etc/kvp-agent/config.json ]; then
	if ! /usr/bin/kvp-agent config check --config /etc/kvp-agent/config.json >/dev/null 2>&1; then
		/usr/bin/kvp-agent config check --config /etc/kvp-agent/config.json >/dev/null || :
		echo "kvp-agent: the agent will not start until /etc/kvp-agent/config.json is fixed (kvp-agent config check)" >&2
	fi
fi
