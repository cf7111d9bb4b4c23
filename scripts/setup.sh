#!/usr/bin/env bash
# Brings a checkout to a runnable state, and does nothing that is already done:
# pnpm at the pinned version, dependencies from the lockfile, a build (turbo caches it).
# With --for-release it also installs the Debian packages `pnpm release` builds with; with
# --for-tests, those and the ones the tests run against (interop with the real daemon, the
# release checks: package linters, fresh Debian roots, Wine).
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9
say() { printf 'setup: %s\n' "$*" >&2; }

if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  say "installing pnpm $PNPM_VERSION"
  npm install --global --silent "pnpm@$PNPM_VERSION" >/dev/null
fi

mode=${1:-}
missing=()
if [ "$mode" = "--for-release" ] || [ "$mode" = "--for-tests" ]; then
  # dpkg-deb packs the guest .debs, rpmbuild the .rpms; the single executables for arm64 are
  # stripped with binutils' aarch64 strip (GNU strip handles only this machine's own).
  command -v dpkg-deb >/dev/null || missing+=(dpkg)
  command -v rpmbuild >/dev/null || missing+=(rpm)
  command -v aarch64-linux-gnu-strip >/dev/null || missing+=(binutils-aarch64-linux-gnu)
  # gcc builds pool-file's kvp-lock addon (the pool lock without koffi) for this CPU, the cross
  # compiler and arm64's C headers for arm64: the packages for both CPUs ship it.
  command -v gcc >/dev/null || missing+=(gcc libc6-dev)
  command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
  [ -e /usr/aarch64-linux-gnu/include/fcntl.h ] || missing+=(libc6-dev-arm64-cross)
fi
if [ "$mode" = "--for-tests" ]; then
  # The real hv_kvp_daemon is the authority the interop tests compare against; cc builds
  # the LD_PRELOAD shim that lets it run without Hyper-V.
  [ -x /usr/sbin/hv_kvp_daemon ] || missing+=(hyperv-daemons)
  command -v cc >/dev/null || missing+=(gcc libc6-dev)
  command -v flock >/dev/null || missing+=(util-linux)
  # xmllint validates the CIM-XML we emit against DMTF's DTD.
  command -v xmllint >/dev/null || missing+=(libxml2-utils)
  # systemd-analyze verifies kvp-agent's unit file.
  command -v systemd-analyze >/dev/null || missing+=(systemd)
  # cloud-init (Debian's 22.4) reads the NoCloud seed kvp-agent writes, in its interop test,
  # run only inside unshare's namespaces (plainly, as root, it reconfigures this machine).
  command -v cloud-init >/dev/null || missing+=(cloud-init)
  # zsh sources kvp-agent's env files in their tests (it gives lower-case names a meaning).
  command -v zsh >/dev/null || missing+=(zsh)
  # dpkg installs kvp-agent's .deb; deb-systemd-helper enables its unit.
  command -v deb-systemd-helper >/dev/null || missing+=(init-system-helpers)
  # dpkg-parsechangelog reads the changelog the .deb ships.
  command -v dpkg-parsechangelog >/dev/null || missing+=(dpkg-dev)
  # pywinrm is the independent WinRM client the sealed-HTTP interop test runs (Debian's python3).
  /usr/bin/python3 -c "import winrm, requests_ntlm" 2>/dev/null || missing+=(python3-winrm)
  # The release checks: the packages' own linters, real Debian roots to install them in, and
  # Wine to run kvp-host.exe.
  command -v lintian >/dev/null || missing+=(lintian)
  command -v rpmlint >/dev/null || missing+=(rpmlint)
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  # cpio unpacks .rpms (with rpm's rpm2cpio) to look inside them.
  command -v cpio >/dev/null || missing+=(cpio)
  [ -x /usr/lib/wine/wine64 ] || missing+=(wine64)
  # qemu-user with arm64's glibc and C++ runtime runs the arm64 Node-free guest program.
  command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
  [ -e /usr/aarch64-linux-gnu/lib/libstdc++.so.6 ] || missing+=(libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    if [[ " ${missing[*]} " == *" cloud-init "* ]]; then
      # Installed for a test, not to configure this machine at its next boot: the marker
      # turns cloud-init's boot stages off (its test runs it by hand, in namespaces).
      touch /etc/cloud/cloud-init.disabled
      say "cloud-init installed for the tests and disabled at boot (/etc/cloud/cloud-init.disabled)"
    fi
  else
    say "missing: ${missing[*]} — install them (apt-get install ${missing[*]}) and run again"
    exit 1
  fi
fi

pnpm install --frozen-lockfile --prefer-offline --reporter=silent
pnpm exec turbo run build --output-logs=errors-only >&2
