# %pre of kvp-agent (the form that runs on the system's Node.js): refuses, before any file
# is installed, a system whose node is older than 18. `Requires: nodejs >= 1:18` says so to
# dnf already; this catches what the dependency cannot: a nodejs package with another epoch
# (NodeSource's is 2, so any of its versions satisfies 1:18), or rpm --nodeps.
if [ -x /usr/bin/node ]; then
	version=$(/usr/bin/node --version 2>/dev/null || true)
	major=${version#v}
	major=${major%%.*}
	case "$major" in
	'' | *[!0-9]*) ;;
	*)
		if [ "$major" -lt 18 ]; then
			echo "kvp-agent: this system's node is $version; kvp-agent needs Node.js 18 or later." >&2
			echo "kvp-agent: install kvp-agent-standalone instead (it carries its own Node.js and needs" >&2
			echo "kvp-agent: no nodejs), or enable a nodejs module stream of 18 or later first" >&2
			echo "kvp-agent: (dnf module enable nodejs:20). Nothing was changed." >&2
			exit 1
		fi
		;;
	esac
fi
