#!/usr/bin/env bash
# Start or stop a throwaway single-node Slurm cluster on this machine (slurmctld + slurmd on
# 127.0.0.1, one partition "debug" holding every core), for users who want to try `autotune slurm`
# and for its tests.
#
#   bash scripts/slurm.sh start [DIR]   # prints the SLURM_CONF line to export
#   bash scripts/slurm.sh stop  [DIR]
#
# Needs Debian's slurm-wlm and munge packages (apt-get install -y slurm-wlm munge) and root (the
# daemons run as root here; a real cluster runs them as its admins set up). State, logs and the
# configuration live in DIR (default: ./.slurm); nothing is written to /etc.
set -euo pipefail
cmd="${1:-}"
dir="$(realpath -m "${2:-.slurm}")"
conf="$dir/slurm.conf"
need() {
    command -v "$1" >/dev/null 2>&1 || { echo "scripts/slurm.sh: $1 not found (apt-get install -y slurm-wlm munge)" >&2; exit 1; }
}
case "$cmd" in
start)
    need slurmctld; need slurmd; need munged; need sinfo
    [ "$(id -u)" = 0 ] || { echo "scripts/slurm.sh: run as root (the daemons of this throwaway cluster run as root)" >&2; exit 1; }
    if pgrep -x slurmctld >/dev/null && ! pgrep -f "slurmctld -f $conf" >/dev/null; then
        echo "scripts/slurm.sh: another slurmctld runs on this machine (stop it first: bash scripts/slurm.sh stop ITS_DIR)" >&2
        exit 1
    fi
    mkdir -p "$dir/state" "$dir/spool"
    host="$(hostname -s)"
    cpus="$(nproc)"
    cat > "$conf" <<EOF
ClusterName=autotune-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
KillWait=10
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    # munge authenticates every Slurm message; the packages ship a key
    if ! pgrep -x munged >/dev/null; then
        mkdir -p /run/munge && chown munge:munge /run/munge
        runuser -u munge -- /usr/sbin/munged
    fi
    export SLURM_CONF="$conf"
    pgrep -f "slurmctld -f $conf" >/dev/null || slurmctld -f "$conf"
    pgrep -f "slurmd -f $conf" >/dev/null || slurmd -f "$conf"
    # ready when the node accepts work (the controller hears from slurmd within seconds)
    for _ in $(seq 1 120); do
        state="$(sinfo -h -N -o '%T' 2>/dev/null | head -n 1 || true)"
        case "$state" in idle|mixed|allocated) echo "export SLURM_CONF=$conf"; exit 0 ;; esac
        sleep 0.5
    done
    echo "scripts/slurm.sh: the node did not come up (state '${state:-none}'); see $dir/slurmctld.log and $dir/slurmd.log" >&2
    exit 1
    ;;
stop)
    export SLURM_CONF="$conf"
    for pid in "$dir/slurmd.pid" "$dir/slurmctld.pid"; do
        [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true
    done
    echo "stopped Slurm in $dir"
    ;;
*)
    echo "usage: bash scripts/slurm.sh start|stop [DIR]" >&2
    exit 2
    ;;
esac
