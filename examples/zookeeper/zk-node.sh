#!/bin/sh
# One ZooKeeper server (Debian's `zookeeper` package) for faultline:
#   zk-node.sh ID DATA_DIR HOST PEERS
# PEERS is faultline's {peers}: id=host:client:quorum:election,... (3 ports
# per node). Writes myid and zoo.cfg into DATA_DIR, then execs java (so the
# pid faultline records is the server's), logging to stdout.
set -eu
id=$1 data=$2 host=$3 peers=$4
mkdir -p "$data"
echo "$id" > "$data/myid"
cfg="$data/zoo.cfg"
{
  echo "tickTime=200"
  echo "initLimit=20"
  echo "syncLimit=5"
  echo "dataDir=$data"
  echo "4lw.commands.whitelist=srvr,ruok"
  echo "admin.enableServer=false"
  for p in $(echo "$peers" | tr ',' ' '); do
    pid=${p%%=*}
    rest=${p#*=}
    h=$(echo "$rest" | cut -d: -f1)
    client=$(echo "$rest" | cut -d: -f2)
    quorum=$(echo "$rest" | cut -d: -f3)
    election=$(echo "$rest" | cut -d: -f4)
    echo "server.$pid=$h:$quorum:$election;$h:$client"
  done
} > "$cfg"
exec java -Xmx256m -Dorg.slf4j.simpleLogger.showDateTime=true \
  -cp "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar" \
  org.apache.zookeeper.server.quorum.QuorumPeerMain "$cfg"
