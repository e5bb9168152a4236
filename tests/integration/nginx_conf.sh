# nginx_conf.sh — sourced by lib.sh (the integration suites) and scripts/bench.sh: one nginx.conf shape for
# a throw-away nginx in directory DIR (pid, logs and temp paths inside it; as root, workers run as root so
# they can read the temp PKI).
#
#   nginx_conf DIR WORKERS CONNECTIONS ERROR_LEVEL HTTP_BODY > DIR/nginx.conf
#
# HTTP_BODY is the inside of the http { } block (server blocks and http-level directives).
nginx_conf() {
  local d=$1 workers=$2 connections=$3 level=$4 body=$5 user_line=""
  [[ $(id -u) == 0 ]] && user_line="user root root;"
  cat <<EOF
$user_line
worker_processes $workers;
worker_rlimit_nofile $((connections * 2 + 64));
pid $d/nginx.pid;
error_log $d/logs/error.log $level;
events { worker_connections $connections; }
http {
  access_log $d/logs/access.log;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fastcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
  default_type text/plain;
$body
}
EOF
}
