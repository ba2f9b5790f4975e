#!/usr/bin/env bash
# Install, switch to and roll back releases of the streaming website.
#
#   deploy.sh install <git-rev | tarball>   build a release, switch to it, restart
#   deploy.sh rollback                      switch to the release before current, restart
#   deploy.sh list                          show releases, marking current and previous
#   deploy.sh manage <args…>                run manage.py of the current release
#
# Run it as the deploy user (streaming-deploy), never as root: the releases
# belong to the deploy user and the services' run user (streaming) can only
# read them. See ops/README.md.
#
# Layout under $STREAMING_ROOT (default /srv/streaming):
#   repo/                    a `git clone --mirror` of the project (fetched here)
#   releases/<time>-<rev>/   one complete release each: code, venv, staticfiles
#   current -> releases/…    what the services run and nginx serves
#   previous -> releases/…   the release current replaced; nginx falls back to
#                            its static files for pages an old process rendered
#
# A release is built in its final directory (a venv cannot be moved), and
# `current` is switched only after every step succeeded and the marker file
# .release was written last. The switch renames a new symlink over the old one
# (rename(2) is atomic), so `current` never points at a half-installed
# release, nor is it ever missing.
#
# Environment (defaults in brackets; the tests override most of them):
#   STREAMING_ROOT        [/srv/streaming]
#   STREAMING_REPO        git repository to export revisions from [$STREAMING_ROOT/repo]
#   STREAMING_FETCH       fetch the repository's remotes before exporting [1]
#   STREAMING_ENV_FILE    the services' environment, read for manage.py [/etc/streaming/env]
#   STREAMING_KEEP        releases to keep besides current and previous [5]
#   STREAMING_PYTHON      interpreter that creates the venv [python3]
#   STREAMING_VENV_OPTS   extra options for `python -m venv` []
#   STREAMING_PIP         pip command [<release>/venv/bin/python -m pip]
#   STREAMING_RESTART     shell command that restarts the services
#                         [a rolling restart of streaming-web@* then streaming-worker]
#   STREAMING_DEPLOY_USER the only user allowed to run this [streaming-deploy]
#   STREAMING_SOCKET_DIR  where web instances put their sockets [/run/streaming]
#   STREAMING_RESTART_WAIT seconds to wait for a restarted web instance's socket [30]

set -euo pipefail
# Release names sort by time only under a byte-wise collation.
export LC_ALL=C
umask 0022

ROOT=${STREAMING_ROOT:-/srv/streaming}
RELEASES=$ROOT/releases
REPO=${STREAMING_REPO:-$ROOT/repo}
ENV_FILE=${STREAMING_ENV_FILE:-/etc/streaming/env}
KEEP=${STREAMING_KEEP:-5}
PYTHON=${STREAMING_PYTHON:-python3}
DEPLOY_USER=${STREAMING_DEPLOY_USER:-streaming-deploy}
SOCKET_DIR=${STREAMING_SOCKET_DIR:-/run/streaming}
RESTART_WAIT=${STREAMING_RESTART_WAIT:-30}
# Written last into a release: its presence means "complete".
MARKER=.release

# The release being built; removed again if the script stops before the switch.
building=""

die() {
    echo "deploy.sh: $*" >&2
    exit 1
}

log() {
    echo "deploy.sh: $*" >&2
}

usage() {
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

check_user() {
    local user
    user=$(id -un)
    if [[ $user != "$DEPLOY_USER" ]]; then
        # Files made by another user (root above all) would be unreadable by
        # the services or unremovable by later deploys.
        die "run this as $DEPLOY_USER, not $user: sudo -u $DEPLOY_USER $0 ${*:-…}"
    fi
}

lock() {
    mkdir -p "$RELEASES"
    # Two deploys at once would race on the symlinks and on pruning.
    exec 9>"$ROOT/.deploy.lock"
    flock -n 9 || die "another deploy.sh is running (lock $ROOT/.deploy.lock)"
}

# Exports the KEY=value lines of the systemd EnvironmentFile, taken literally
# (no shell expansion: a SECRET_KEY may hold any character), so manage.py
# sees exactly the settings the services get.
load_env() {
    [[ -n $ENV_FILE ]] || return 0
    [[ -r $ENV_FILE ]] || die "cannot read $ENV_FILE (set STREAMING_ENV_FILE, or see ops/README.md)"
    local line key value
    while IFS= read -r line || [[ -n $line ]]; do
        line=${line#"${line%%[![:space:]]*}"}
        [[ -z $line || $line == \#* || $line == \;* ]] && continue
        key=${line%%=*}
        value=${line#*=}
        [[ $line == *=* && $key =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "$ENV_FILE: not KEY=value: ${line%%=*}…"
        # systemd strips one pair of surrounding quotes; so do we.
        if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then
            value=${BASH_REMATCH[1]}
        fi
        export "$key=$value"
    done <"$ENV_FILE"
}

# Runs manage.py of a release with the services' environment.
manage() {
    local release=$1
    shift
    (cd "$release" && "$release/venv/bin/python" manage.py "$@")
}

# The same for commands that write the database. umask 0007: a SQLite
# database (and its journal) the deploy user creates must stay writable by the
# run user, whose group owns /var/lib/streaming (setgid). Not for the rest:
# release files must stay readable by the run user and nginx.
manage_db() {
    (umask 0007 && manage "$@")
}

# Complete releases, oldest first, one name per line.
complete_releases() {
    local dir
    for dir in "$RELEASES"/*/; do
        dir=${dir%/}
        [[ -f $dir/$MARKER ]] && echo "${dir##*/}"
    done
    return 0
}

# The release name a symlink in $ROOT points at, or nothing.
link_target() {
    local target
    target=$(readlink "$ROOT/$1" 2>/dev/null) || return 0
    echo "${target##*/}"
}

# Points $ROOT/<name> at releases/<release> by renaming a fresh symlink over
# the old one: readers see the old or the new target, never neither.
switch_link() {
    local name=$1 release=$2
    ln -sfn "releases/$release" "$ROOT/.$name.new"
    mv -T "$ROOT/.$name.new" "$ROOT/$name"
}

restart_services() {
    if [[ -n ${STREAMING_RESTART:-} ]]; then
        log "restarting: $STREAMING_RESTART"
        bash -c "$STREAMING_RESTART"
        return
    fi
    local -a sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo -n)
    # One web process at a time, waiting for its socket before the next, so
    # nginx always has processes to send heartbeats and page views to.
    local unit instance socket _
    local -a units
    mapfile -t units < <(systemctl list-units --plain --no-legend --type=service 'streaming-web@*' | awk '{print $1}')
    for unit in "${units[@]}"; do
        log "restarting $unit"
        "${sudo[@]}" systemctl restart "$unit"
        instance=${unit#streaming-web@}
        socket=$SOCKET_DIR/web-${instance%.service}.sock
        for _ in $(seq $((RESTART_WAIT * 10))); do
            [[ -S $socket ]] && break
            sleep 0.1
        done
        # Stop here: the instances not yet restarted still serve the old code.
        [[ -S $socket ]] || die "$unit did not come up within $RESTART_WAIT s (journalctl -u $unit); the rest were not restarted"
    done
    log "restarting streaming-worker.service"
    "${sudo[@]}" systemctl restart streaming-worker.service
}

# Deletes all but the newest $KEEP complete releases, never current or
# previous, and anything incomplete left by a deploy that was killed (we hold
# the lock, so nothing is being built).
prune() {
    local current previous release
    current=$(link_target current)
    previous=$(link_target previous)
    local -a complete
    mapfile -t complete < <(complete_releases)
    local keep_from=$((${#complete[@]} - KEEP))
    local i
    for i in "${!complete[@]}"; do
        release=${complete[$i]}
        if ((i < keep_from)) && [[ $release != "$current" && $release != "$previous" ]]; then
            log "removing old release $release"
            rm -rf -- "${RELEASES:?}/$release"
        fi
    done
    for release in "$RELEASES"/*/; do
        release=${release%/}
        release=${release##*/}
        if [[ ! -f $RELEASES/$release/$MARKER && $release != "$current" && $release != "$previous" ]]; then
            log "removing incomplete release $release"
            rm -rf -- "${RELEASES:?}/$release"
        fi
    done
    for release in "$RELEASES"/.export.*; do
        rm -rf -- "$release"
    done
}

cleanup() {
    if [[ -n $building ]]; then
        log "install failed; removing $building (current is unchanged)"
        rm -rf -- "$building"
    fi
}

# Unpacks the source into $1 and prints the name's <rev> part.
export_source() {
    local dest=$1 source=$2
    if [[ -f $source ]]; then
        case $source in
            *.tar.gz | *.tgz | *.tar | *.tar.xz | *.tar.bz2) ;;
            *) die "$source: not a tarball (.tar, .tar.gz, .tgz, .tar.xz, .tar.bz2)" ;;
        esac
        # A tarball may or may not wrap everything in one top directory.
        tar -xf "$source" -C "$dest"
        local -a entries
        mapfile -t entries < <(find "$dest" -mindepth 1 -maxdepth 1)
        if [[ ${#entries[@]} -eq 1 && -d ${entries[0]} && ! -e $dest/manage.py ]]; then
            find "${entries[0]}" -mindepth 1 -maxdepth 1 -exec mv -t "$dest" {} +
            rmdir "${entries[0]}"
        fi
        local name=${source##*/}
        name=${name%.tar*}
        echo "${name%.tgz}"
    else
        [[ -d $REPO ]] || die "no such tarball, and no repository at $REPO for revision $source"
        if [[ ${STREAMING_FETCH:-1} != 0 && -n $(git -C "$REPO" remote) ]]; then
            log "fetching into $REPO"
            git -C "$REPO" fetch --quiet --prune --all >&2
        fi
        local commit
        commit=$(git -C "$REPO" rev-parse --verify --quiet "$source^{commit}") || die "unknown revision: $source"
        git -C "$REPO" archive --format=tar "$commit" | tar -xf - -C "$dest"
        echo "${commit:0:12}"
    fi
}

cmd_install() {
    [[ $# -eq 1 ]] || usage
    local source=$1
    [[ $KEEP =~ ^[1-9][0-9]*$ ]] || die "STREAMING_KEEP must be a positive number, not $KEEP"
    check_user install "$source"
    lock
    load_env

    # The time in the name orders releases; wait out a clash with the newest.
    local -a existing
    mapfile -t existing < <(complete_releases)
    local stamp
    stamp=$(date -u +%Y%m%d-%H%M%S.%3N)
    # (The stamp is the name's first 19 characters: 20250131-235959.999.)
    while [[ ${#existing[@]} -gt 0 && ! $stamp > ${existing[-1]:0:19} ]]; do
        sleep 0.01
        stamp=$(date -u +%Y%m%d-%H%M%S.%3N)
    done

    local staging
    staging=$(mktemp -d "$RELEASES/.export.XXXXXX")
    building=$staging
    trap cleanup EXIT
    local rev
    rev=$(export_source "$staging" "$source")
    rev=${rev//[^A-Za-z0-9._-]/_}
    local name=$stamp-$rev release=$RELEASES/$stamp-$rev
    [[ ! -e $release ]] || die "$release exists already"
    # Renamed before the venv exists: venvs hard-code their own path.
    mv -T "$staging" "$release"
    building=$release
    [[ -f $release/manage.py && -f $release/requirements.txt ]] || die "$source has no manage.py and requirements.txt"
    log "building $name"

    local -a venv_opts
    read -ra venv_opts <<<"${STREAMING_VENV_OPTS:-}"
    "$PYTHON" -m venv "${venv_opts[@]}" "$release/venv"
    local -a pip
    if [[ -n ${STREAMING_PIP:-} ]]; then
        read -ra pip <<<"$STREAMING_PIP"
    else
        pip=("$release/venv/bin/python" -m pip)
    fi
    # The lock: every dependency at its version, each file checked against its hash.
    "${pip[@]}" install --quiet --disable-pip-version-check --require-hashes -r "$release/requirements.txt"
    # The services cannot write into the release (read-only to them), so
    # compile now or every start recompiles in memory.
    "$release/venv/bin/python" -m compileall -q -x '/venv/' "$release" >/dev/null

    # A release that cannot start (bad settings, rooms config it rejects) is
    # refused before it touches the database.
    manage "$release" check
    manage "$release" check_config >/dev/null
    # Before the switch, so the new code never runs on an old schema; the old
    # code runs on the new schema until its restart, so migrations must be
    # backwards compatible (add, don't rename or drop, in one release).
    manage_db "$release" migrate --noinput
    manage "$release" collectstatic --noinput >/dev/null

    printf 'source %s\ninstalled %s\n' "$source" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$release/$MARKER"
    building=""

    local old
    old=$(link_target current)
    [[ -z $old ]] || switch_link previous "$old"
    switch_link current "$name"
    log "current -> releases/$name${old:+ (was $old)}"

    restart_services
    prune
}

cmd_rollback() {
    [[ $# -eq 0 ]] || usage
    check_user rollback
    lock
    local current target="" release
    current=$(link_target current)
    [[ -n $current ]] || die "no current release to roll back from"
    while IFS= read -r release; do
        [[ $release < $current ]] && target=$release
    done < <(complete_releases)
    [[ -n $target ]] || die "no release older than $current to roll back to"
    # Database migrations are not reversed: see ops/README.md before rolling
    # back over a release that migrated.
    switch_link previous "$current"
    switch_link current "$target"
    log "current -> releases/$target (was $current)"
    restart_services
}

cmd_list() {
    local current previous release mark
    current=$(link_target current)
    previous=$(link_target previous)
    while IFS= read -r release; do
        mark=""
        [[ $release == "$current" ]] && mark=" (current)"
        [[ $release == "$previous" ]] && mark=" (previous)"
        echo "$release$mark"
    done < <(complete_releases)
}

cmd_manage() {
    check_user manage "$@"
    load_env
    [[ -L $ROOT/current ]] || die "no current release yet: deploy.sh install <rev> first"
    manage_db "$(readlink -f "$ROOT/current")" "$@"
}

# Globs over an empty releases directory expand to nothing.
shopt -s nullglob
case ${1:-} in
    install) shift && cmd_install "$@" ;;
    rollback) shift && cmd_rollback "$@" ;;
    list) shift && cmd_list "$@" ;;
    manage) shift && cmd_manage "$@" ;;
    *) usage ;;
esac
