# Shared by the benchmark scripts of tests/bench (sourced): ports, RSS, wrk runs, the public
# form's request script, the 660-start-up portfolio. Expects WORK (a temp dir) and SECS.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
# wrk's summary -> "rps p50_ms p99_ms non2xx"
wrk_run() {  # conns script url; wrk's own output goes to stderr as well
  local c=$1 script=$2 url=$3 t=2 out="$WORK/wrk.out"
  (( c < 2 )) && t=1
  wrk -t$t -c"$c" -d"${SECS}s" --latency -s "$script" "$url" > "$out" 2>&1 || true
  cat "$out" >&2
  awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ {rps=$2} / 50%/ {p50=ms($2)} / 99%/ {p99=ms($2)} /Non-2xx/ {bad=$5}
    END {printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad+0}' "$out"
}

# The public form's wrk script: each answer from its own client (its own /24), as citizens.
write_form_lua() {  # FILE
cat > "$1" <<'LUA'
local n, tid = 0, 0
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init() tid = wrk.thread:get("tid"); math.randomseed(tid * 7919) end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  -- Each answer from its own client (its own /24): distinct rate-limit keys, as real citizens.
  wrk.headers["X-Forwarded-For"] = string.format("%d.%d.%d.%d", 11 + tid, math.random(0, 255), math.random(0, 255), 1)
  return wrk.format(nil, nil, nil, '{"satisfaction":"SATISFACTION_GOOD","nps":9,"verbatim":"Rapide et clair","idempotency_key":"' .. tid .. '-' .. n .. '-' .. math.random(1e9) .. '"}')
end
LUA
}

# The real portfolio size (beta.gouv.fr has 659): 660 start-ups, 60 of them in construction
# (taking feedback), as JSON lines for `pepctl import portfolio`.
write_portfolio() {  # FILE
python3 - "$1" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(660):
        phases = [{"name": "investigation", "start": "2024-01-01", **({"end": "2024-06-01"} if i < 60 else {})}]
        if i < 60:
            phases.append({"name": "construction", "start": "2024-06-01"})
        f.write(json.dumps({"slug": f"produit-{i:03d}", "title": f"Produit {i}", "mission": "Un service public numérique",
                            "incubator": "lab06", "sponsors": ["cd06"], "phases": phases,
                            "events": [{"name": "committee", "date": "2024-05-20"}]}) + "\n")
PY
}
