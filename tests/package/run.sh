#!/usr/bin/env bash
# tests/package/run.sh BUILD_DIR: the packaging test (CI runs it as root on a throwaway machine). From a
# build dir that is already built (nothing is compiled), it makes the .deb and the .rpm with CPack,
# compares each one's files, modes and config files with the expected list (the examples part read from
# conf/examples, so it follows that folder), runs lintian (errors fail) and rpmlint (errors fail but the
# two explained below), checks the unit with `systemd-analyze verify` and its `security` exposure (at
# most 2.0), then installs the .deb with dpkg -i, runs the installed ferry check, checks the ferry user,
# and removes (dpkg -r) and purges it, checking what each step leaves: after remove the conffile, the
# state folder, the user and the unit's enable link; after purge only the ferry user and group (Debian
# policy: a removed system user's uid could hand its files to someone else). An earlier install of the
# package, and the ferry user, are removed first so every run installs from scratch.
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
out=$build/packages
start=$SECONDS
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
note() { echo "--- $* ($((SECONDS - start)) s)"; }
[[ $(id -u) -eq 0 ]] || { echo "$0: needs root (dpkg -i)" >&2; exit 2; }

note "cpack: DEB and RPM from $build"
rm -rf "$out"
cpack --config "$build/CPackConfig.cmake" -G "DEB;RPM" -B "$out" >"$out.cpack.log" 2>&1 ||
  { cat "$out.cpack.log"; fail "cpack"; exit 1; }
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
deb=$(ls "$out"/ferry_"$version"_*.deb)
rpm=$(ls "$out"/ferry-"$version"-*.rpm)
ls -l "$deb" "$rpm"

# lintian takes ~10 s of one core: it runs beside the rest.
lintian --tag-display-limit 0 "$deb" >"$out/lintian.txt" 2>&1 &
lintian_pid=$!

note "contents"
expected() {
  cat <<'LIST'
-rw-r--r-- /etc/ferry/ferry.yaml
-rwxr-xr-x /usr/bin/ferry
-rwxr-xr-x /usr/bin/ferry-lambda-node
-rwxr-xr-x /usr/bin/ferry-lambda-python
-rw-r--r-- /usr/include/ferry/plugin.h
-rw-r--r-- /usr/lib/systemd/system/ferry.service
-rw-r--r-- /usr/share/doc/ferry/LICENSE
-rw-r--r-- /usr/share/doc/ferry/changelog.gz
-rw-r--r-- /usr/share/doc/ferry/copyright
-rw-r--r-- /usr/share/man/man1/ferry.1.gz
-rw-r--r-- /usr/share/man/man5/ferry.yaml.5.gz
LIST
  if [[ -d $src/conf/examples ]]; then
    (cd "$src/conf/examples" && find . -type f | sed 's|^\./|-rw-r--r-- /usr/share/doc/ferry/examples/|')
  fi
}
expected | sort >"$out/expected.txt"
dpkg-deb --fsys-tarfile "$deb" | tar -tvf - | awk '$1 !~ /^d/ {sub(/^\./, "", $6); print $1, $6}' |
  sort >"$out/deb-contents.txt"
rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpm" | grep -v '^d' | sort >"$out/rpm-contents.txt"
diff -u "$out/expected.txt" "$out/deb-contents.txt" || fail ".deb contents differ from the expected list"
diff -u "$out/expected.txt" "$out/rpm-contents.txt" || fail ".rpm contents differ from the expected list"
dpkg-deb --fsys-tarfile "$deb" | tar -tvf - | awk '$2 != "root/root" {print}' | grep . &&
  fail ".deb files not owned by root"
[[ $(dpkg-deb -I "$deb" conffiles) == /etc/ferry/ferry.yaml ]] || fail ".deb conffiles is not /etc/ferry/ferry.yaml"
rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm" | grep -qx 'cn /etc/ferry/ferry.yaml' ||
  fail ".rpm: /etc/ferry/ferry.yaml is not %config(noreplace)"
dpkg-deb -f "$deb" Depends | grep -q 'libuv1 (>=' || fail ".deb Depends not computed by dpkg-shlibdeps"
rpm -qp --requires "$rpm" | grep -q '^libuv.so.1()' || fail ".rpm Requires not computed by autoreq"
for s in pre post preun postun; do
  sh -n "$src/packaging/rpm/$s" || fail "packaging/rpm/$s: sh syntax"
done

note "systemd-analyze: security of the unit"
unit=$src/packaging/ferry.service
systemd-analyze security --offline=true "$unit" >"$out/security.txt" 2>&1 || true
exposure=$(sed -n 's/.*Overall exposure level for ferry.service: \([0-9.]*\).*/\1/p' "$out/security.txt")
echo "exposure: ${exposure:-none}"
[[ -n $exposure ]] && awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' ||
  { cat "$out/security.txt"; fail "systemd-analyze security: exposure ${exposure:-unknown} > 2.0"; }

note "rpmlint"
# Errors that are not: no-signature (CI packages are unsigned; a release signs them with rpmsign) and
# env-script-interpreter for the lambda wrappers (#!/usr/bin/env python3 | node, so that autoreq does not
# make python3 and node hard requirements of a log shipper; the lambda plugin needs them only when used).
if command -v rpmlint >/dev/null; then
  rpmlint "$rpm" >"$out/rpmlint.txt" 2>&1 || true
  grep ': [EW]: ' "$out/rpmlint.txt" || true
  grep ': E: ' "$out/rpmlint.txt" | grep -v ': E: no-signature$' |
    grep -v ': E: env-script-interpreter /usr/bin/ferry-lambda-\(python /usr/bin/env python3\|node /usr/bin/env node\)$' &&
    fail "rpmlint errors"
else
  echo "rpmlint not installed: skipped"
fi

note "dpkg -i"
snapshot() {  # what the package may touch, but dpkg's and apt's own records and logs
  find /etc /usr /var/lib /var/log /run/systemd -xdev 2>/dev/null |
    grep -v -e '^/var/lib/dpkg' -e '^/var/lib/apt' -e '^/var/log/' -e '^/var/cache' | sort
}
if dpkg-query -W -f='${Status}' ferry 2>/dev/null | grep -qv 'not-installed'; then dpkg --purge ferry >/dev/null; fi
if getent passwd ferry >/dev/null; then deluser --quiet --system ferry >/dev/null 2>&1; fi
if getent group ferry >/dev/null; then delgroup --quiet --system ferry >/dev/null 2>&1; fi
# The maintainer scripts act on systemd only when it runs (/run/systemd/system). They see it running, and
# find stand-ins for systemctl and deb-systemd-invoke first in PATH that record what they were asked, so
# the test checks when the service would start and never starts it. Triggers of other packages (man-db's
# index: ~10 s each time) wait until the end (--no-triggers), then run once.
fakebin=$(mktemp -d)
for c in systemctl deb-systemd-invoke; do
  printf '#!/bin/sh\necho "%s $*" >>%s/calls\n' "$c" "$fakebin" >"$fakebin/$c"
  chmod 755 "$fakebin/$c"
done
made_run_dir=
if [[ ! -d /run/systemd/system ]]; then
  mkdir -p /run/systemd/system
  made_run_dir=yes
fi
cleanup() {
  rm -rf "$fakebin"
  if [[ -n $made_run_dir ]]; then rmdir /run/systemd/system /run/systemd 2>/dev/null || true; fi
}
trap cleanup EXIT
calls() { cat "$fakebin/calls" 2>/dev/null; : >"$fakebin/calls"; }
snapshot >"$out/before.txt"
PATH=$fakebin:$PATH dpkg --no-triggers -i "$deb" >"$out/dpkg-i.log" 2>&1 || { cat "$out/dpkg-i.log"; fail "dpkg -i"; }
echo "systemd, asked by dpkg -i: $(calls | tr '\n' ';')" | tee "$out/calls-install.txt"
grep -q 'deb-systemd-invoke' "$out/calls-install.txt" && fail "dpkg -i started ferry with the shipped config"
grep -q 'not started' "$out/dpkg-i.log" || fail "dpkg -i did not say why ferry was not started"
set +e
check=$(/usr/bin/ferry check -c /etc/ferry/ferry.yaml 2>&1)
rc=$?
set -e
echo "installed ferry check (the shipped config, no flow): exit $rc: $check"
[[ $rc -eq 2 && $check == *"flows: missing required key"* ]] ||
  fail "ferry check on the shipped config: expected exit 2 and 'flows: missing required key'"
# The shipped config with its sample flow uncommented (what the note in it asks for) passes, as ferry.
edited=$(mktemp -d)
chmod 755 "$edited"
sed '/^# flows:/,$ s/^# \{0,1\}//' /etc/ferry/ferry.yaml >"$edited/ferry.yaml"
chmod 644 "$edited/ferry.yaml"
runuser -u ferry -- /usr/bin/ferry check -c "$edited/ferry.yaml" >/dev/null ||
  fail "installed ferry check, as the ferry user, on the shipped config with its flow uncommented"
# A reinstall (the upgrade path) with a config ferry accepts restarts the service.
cp /etc/ferry/ferry.yaml "$edited/shipped.yaml"
cp "$edited/ferry.yaml" /etc/ferry/ferry.yaml
PATH=$fakebin:$PATH dpkg --no-triggers -i "$deb" >"$out/dpkg-i-again.log" 2>&1 || { cat "$out/dpkg-i-again.log"; fail "dpkg -i again"; }
echo "systemd, asked by dpkg -i again (config with a flow): $(calls | tr '\n' ';')" | tee "$out/calls-upgrade.txt"
grep -q 'deb-systemd-invoke restart ferry.service' "$out/calls-upgrade.txt" ||
  fail "dpkg -i over an installed ferry with a valid config did not restart it"
cp "$edited/shipped.yaml" /etc/ferry/ferry.yaml
rm -rf "$edited"
[[ $(getent passwd ferry | cut -d: -f6,7) == /var/lib/ferry:/usr/sbin/nologin ]] ||
  fail "ferry user: home and shell: $(getent passwd ferry)"
id -nG ferry | tr ' ' '\n' | grep -qx adm || fail "ferry is not in adm: $(id -nG ferry)"
[[ $(stat -c '%U:%G %a' /var/lib/ferry) == 'ferry:ferry 750' ]] || fail "/var/lib/ferry: $(stat -c '%U:%G %a' /var/lib/ferry)"
# deb-systemd-helper enables with `systemctl preset --preset-mode=enable-only` when systemd runs, and makes
# the links itself when it does not.
[[ -L /etc/systemd/system/multi-user.target.wants/ferry.service ]] ||
  grep -q 'systemctl .*preset ferry.service' "$out/calls-install.txt" || fail "ferry.service not enabled"
dpkg-query -W -f='${Conffiles}\n' ferry | grep -q '/etc/ferry/ferry.yaml' || fail "dpkg has no conffile"
man -w ferry.yaml >/dev/null 2>&1 || [[ ! -x /usr/bin/man ]] || fail "man ferry.yaml(5) not found"

note "systemd-analyze verify (the installed unit)"
man_opt=--man=yes
[[ -x /usr/bin/man ]] || man_opt=--man=no
systemd-analyze verify "$man_opt" /usr/lib/systemd/system/ferry.service >"$out/verify.txt" 2>&1 || true
if [[ -s $out/verify.txt ]]; then cat "$out/verify.txt"; fail "systemd-analyze verify is not clean"; fi

note "dpkg -r"
echo "# edited" >>/etc/ferry/ferry.yaml
PATH=$fakebin:$PATH dpkg --no-triggers -r ferry >"$out/dpkg-r.log" 2>&1 || { cat "$out/dpkg-r.log"; fail "dpkg -r"; }
echo "systemd, asked by dpkg -r: $(calls | tr '\n' ';')" | tee "$out/calls-remove.txt"
grep -q 'deb-systemd-invoke stop ferry.service' "$out/calls-remove.txt" || fail "dpkg -r did not stop ferry"
[[ ! -e /usr/bin/ferry && ! -e /usr/lib/systemd/system/ferry.service ]] || fail "dpkg -r left the program or the unit"
grep -q '^# edited$' /etc/ferry/ferry.yaml || fail "dpkg -r did not keep the edited conffile"
[[ -d /var/lib/ferry ]] || fail "dpkg -r removed /var/lib/ferry (only purge should)"
getent passwd ferry >/dev/null || fail "dpkg -r removed the ferry user"
snapshot >"$out/after-remove.txt"
echo "left by dpkg -r:"
comm -13 "$out/before.txt" "$out/after-remove.txt" | sed 's/^/  /'

note "dpkg --purge"
PATH=$fakebin:$PATH dpkg --no-triggers --purge ferry >"$out/dpkg-purge.log" 2>&1 || { cat "$out/dpkg-purge.log"; fail "dpkg --purge"; }
dpkg --triggers-only --pending >/dev/null
snapshot >"$out/after-purge.txt"
if ! diff "$out/before.txt" "$out/after-purge.txt" >"$out/left.txt"; then
  cat "$out/left.txt"
  fail "dpkg --purge left files behind (or removed some)"
fi
getent passwd ferry >/dev/null || fail "the ferry user should stay after purge (Debian policy)"
echo "left by dpkg --purge: the ferry user and group ($(getent passwd ferry))"

wait "$lintian_pid" || true
note "lintian"
grep -v '^running with root privileges' "$out/lintian.txt" || true
grep -q '^E: ' "$out/lintian.txt" && fail "lintian errors"

note "done: $fails failure(s)"
((fails == 0))
