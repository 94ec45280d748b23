#!/usr/bin/env bash
# The product guide's "service resource scheduling" walkthrough, run against
# eplink with the eplink CLI, dig, curl and (if installed) wrk:
#
#   1. the provider creates an endpoint service on CLB1 and whitelists the
#      consumer; the consumer creates an endpoint (and reads it back with
#      signature v3: eplink api --signature v3, and the current Node SDK
#      core where node is installed); the provider accepts it
#   2. curl through the zone domain answers from ECS01 (behind CLB1)
#   3. CloudMonitor: the provider creates an alarm rule on CLB1's inbound
#      bandwidth (Period 1 s, 2 periods in a row, Warn) with a webhook to a
#      local receiver
#   4. a short wrk load runs through the zone's ENI in the background; the
#      rule goes to ALARM and the webhook is called
#   4. the provider adds CLB2 and migrates the zone to it smoothly
#      (Graceful): the zone domain now answers ECS02, the old ENI still
#      carries its flows to ECS01 and the load sees no error
#   5. the provider cleans up the replaced resource, then migrates back to
#      CLB1 forcibly (Force): ECS01 again
#      once the load is over, the rule is back to OK (recovery notified)
#   6. everything is removed again, in the order the API requires
#
# Usage:
#   examples/walkthrough.sh              start eplink on free ports, run, stop it
#                                        (on a copy of examples/lab.yaml moved to
#                                        unused addresses, so that it can run beside
#                                        another eplink)
#   EPLINK_API=127.0.0.1:8080 EPLINK_DNS=127.0.0.1:8053 examples/walkthrough.sh
#                                        use a running `eplink serve --lab examples/lab.yaml`
#   NETWORK=netns examples/walkthrough.sh
#                                        the same on the netns front end (root, or rootless):
#                                        examples/lab-netns.yaml, every client
#                                        (dig, curl, wrk) inside ECS03's namespace,
#                                        resolving through the VPC resolver; at the
#                                        end eplink stops and must leave no
#                                        namespace behind
# Environment: EPLINK (binary; default: built from this checkout), EPLINK_API,
# EPLINK_DNS (default 127.0.0.1:53 with EPLINK_API), WAIT_SECONDS (bound of
# each wait, default 30), NETWORK (loopback, the default, or netns),
# EPLINK_SKIP_NODE (set: skip the Node SDK check, which needs the npm
# registry).
#
# Each step is checked; the first failure stops the script with a message
# and a non-zero status. Every wait is bounded. Needs no terminal (CI=true).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WAIT_SECONDS=${WAIT_SECONDS:-30}
NETWORK=${NETWORK:-loopback}
# netns: the instances' namespaces get a prefix of this run's own.
NETNS_PREFIX=wt$$-
CLIENT=$NETNS_PREFIX"ecs03"

# The lab's accounts (examples/lab.yaml).
REGION=cn-hangzhou
ZONE=cn-hangzhou-h
PROVIDER_KEY=LTAIprovider000001 PROVIDER_SECRET=provider-secret-1
CONSUMER_KEY=LTAIconsumer000002 CONSUMER_SECRET=consumer-secret-2
CONSUMER_UID=1000000000000002

TMP=$(mktemp -d "${TMPDIR:-/tmp}/eplink-walkthrough.XXXXXX")
# The CLI must not read or write the user's profile file.
export EPLINK_CONFIG="$TMP/config.json"
SERVE_PID='' WRK_PID='' HOOK_PID=''

cleanup() {
	local status=$?
	if [[ -n $WRK_PID ]] && kill -0 "$WRK_PID" 2>/dev/null; then kill "$WRK_PID" 2>/dev/null || true; fi
	if [[ -n $HOOK_PID ]] && kill -0 "$HOOK_PID" 2>/dev/null; then kill "$HOOK_PID" 2>/dev/null || true; fi
	if [[ -n $SERVE_PID ]] && kill -0 "$SERVE_PID" 2>/dev/null; then
		kill "$SERVE_PID" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$SERVE_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
	exit "$status"
}
trap cleanup EXIT
# fail in a $(…) subshell stops the script through TERM (see fail).
trap 'if [[ -e $TMP/failed ]]; then exit 1; else exit 143; fi' TERM
trap 'exit 130' INT

STEP=0
step() {
	STEP=$((STEP + 1))
	printf '\n== %d. %s\n' "$STEP" "$*"
}

fail() {
	printf '\nFAILED at step %d: %s\n' "$STEP" "$*" >&2
	if [[ -n $SERVE_PID && -s $TMP/serve.log ]]; then
		printf -- '--- last lines of the eplink serve log:\n' >&2
		tail -n 20 "$TMP/serve.log" >&2
	fi
	if [[ $BASHPID != "$$" ]]; then
		: >"$TMP/failed"
		kill -TERM "$$"
	fi
	exit 1
}

need() {
	command -v "$1" >/dev/null || fail "$1 is not installed ($2)"
}

# api_try ROLE ACTION [ARGS…]: run `eplink api` as the provider or the
# consumer; its stderr goes to $TMP/api.err.
api_try() {
	local role=$1 key secret
	shift
	case $role in
	provider) key=$PROVIDER_KEY secret=$PROVIDER_SECRET ;;
	consumer) key=$CONSUMER_KEY secret=$CONSUMER_SECRET ;;
	esac
	"$EPLINK" api "$@" --endpoint "$API" --region "$REGION" --access-key-id "$key" \
		--access-key-secret "$secret" --wait-timeout "${WAIT_SECONDS}s" --wait-interval 100ms 2>"$TMP/api.err"
}

# api ROLE ACTION [ARGS…]: api_try, echoing the command; prints its stdout;
# on failure shows its output and stops. QUIET=1 skips the echo.
api() {
	local out
	[[ -n ${QUIET:-} ]] || printf '   %s$ eplink api %s\n' "$1" "${*:2}" >&2
	if ! out=$(api_try "$@"); then
		sed 's/^/   | /' "$TMP/api.err" >&2
		fail "eplink api $2 failed"
	fi
	[[ -n ${QUIET:-} ]] || sed 's/^/   . /' "$TMP/api.err" >&2
	printf '%s' "$out"
}

# cms ACTION [ARGS…]: `eplink api cms` (CloudMonitor) as the provider,
# echoing the command; prints its stdout; on failure shows it and stops.
cms() {
	local out
	[[ -n ${QUIET:-} ]] || printf '   provider$ eplink api cms %s\n' "$*" >&2
	if ! out=$("$EPLINK" api cms "$@" --endpoint "$API" --region "$REGION" --access-key-id "$PROVIDER_KEY" \
		--access-key-secret "$PROVIDER_SECRET" 2>"$TMP/api.err"); then
		sed 's/^/   | /' "$TMP/api.err" >&2
		fail "eplink api cms $1 failed"
	fi
	printf '%s' "$out"
}

# wait_cms WHAT WANT ACTION [ARGS…]: poll a CloudMonitor query until it
# prints WANT (bounded).
wait_cms() {
	local what=$1 want=$2 got deadline=$((SECONDS + WAIT_SECONDS))
	shift 2
	while :; do
		# An empty list makes --cli-query fail: not there yet.
		got=$("$EPLINK" api cms "$@" --endpoint "$API" --region "$REGION" --access-key-id "$PROVIDER_KEY" \
			--access-key-secret "$PROVIDER_SECRET" 2>"$TMP/api.err") || got="($(head -c 200 "$TMP/api.err"))"
		if [[ $got == "$want" ]]; then
			printf '   ok: %s is %s\n' "$what" "$got"
			return
		fi
		((SECONDS < deadline)) || fail "$what is '$got' after ${WAIT_SECONDS}s, want '$want'"
		sleep 0.2
	done
}

expect() { # expect WHAT GOT WANT
	[[ $2 == "$3" ]] || fail "$1: got '$2', want '$3'"
	printf '   ok: %s is %s\n' "$1" "$2"
}

# zone_field FIELD: the consumer's view of the endpoint's zone.
zone_field() {
	QUIET=1 api consumer ListVpcEndpointZones --EndpointId "$EP" --cli-query "Zones[0].$1"
}

# zone_field_or_empty FIELD: the same, empty when the field is absent.
zone_field_or_empty() {
	api_try consumer ListVpcEndpointZones --EndpointId "$EP" --cli-query "Zones[0].$1" || true
}

# wait_zone STATUS RESOURCE: poll until the zone is STATUS on RESOURCE.
wait_zone() {
	local want="$1 $2" got deadline=$((SECONDS + WAIT_SECONDS))
	while :; do
		got="$(zone_field ZoneStatus) $(zone_field ResourceId)"
		if [[ $got == "$want" ]]; then
			printf '   ok: zone is %s\n' "$got"
			return
		fi
		((SECONDS < deadline)) || fail "zone $ZONE is '$got' after ${WAIT_SECONDS}s, want '$want'"
		sleep 0.2
	done
}

# in_client CMD…: run CMD where the client runs: this host, or (netns)
# inside ECS03, whose resolv.conf names the VPC resolver.
in_client() {
	if [[ $NETWORK == netns && $(id -u) == 0 ]]; then
		ip netns exec "$CLIENT" "$@"
	elif [[ $NETWORK == netns ]]; then
		# Rootless: ECS03's namespace is in eplink's user namespace.
		"$EPLINK" exec ecs03 -- "$@"
	else
		"$@"
	fi
}

# resolve DOMAIN: its A record from eplink's DNS server (netns: from the VPC
# resolver 100.100.2.136, as ECS03 asks it).
resolve() {
	local ip
	if [[ $NETWORK == netns ]]; then
		ip=$(in_client dig "$1" A +short +time=2 +tries=1 | head -n 1) || true
		[[ -n $ip ]] || fail "dig $1 in $CLIENT (resolver 100.100.2.136) returned no address"
		printf '%s' "$ip"
		return
	fi
	ip=$(dig @"$DNS_HOST" -p "$DNS_PORT" "$1" A +short +time=2 +tries=1 | head -n 1) || true
	[[ -n $ip ]] || fail "dig @$DNS_HOST -p $DNS_PORT $1 returned no address"
	printf '%s' "$ip"
}

# fetch DOMAIN IP WANT: curl the zone domain at IP until the answer has WANT
# (the data plane applies a new snapshot within moments; bounded retries).
fetch() {
	local body=
	for _ in $(seq 1 25); do
		body=$(in_client curl -sS --max-time 3 --resolve "$1:80:$2" "http://$1/" 2>&1) || true
		if [[ $body == *"$3"* ]]; then
			printf '   ok: curl http://%s/ (%s): %s\n' "$1" "$2" "$body"
			return
		fi
		sleep 0.2
	done
	fail "curl http://$1/ at $2 answered '$body', want '$3'"
}

# check_binds: eplink could bind every ENI address (else another process
# holds one, and curl would be talking to it).
check_binds() {
	local n
	[[ $NETWORK != netns ]] || return 0 # the VPC stacks own the ENI addresses
	n=$(curl -sS --max-time 3 "http://$API/metrics" |
		awk '/^eplink_dataplane_listener_bind_errors_total/ {s += $NF} END {print s + 0}') ||
		fail "GET http://$API/metrics failed"
	[[ $n == 0 ]] || fail "eplink could not bind an ENI address ($n errors): another process holds it"
}

# free_port prints a port nothing on this machine uses, below the kernel's
# ephemeral range: a port inside it can be the local end of any outgoing
# connection (a test's, a browser's), which a listen check does not see and
# which makes bind fail. It sets PORT (not a subshell's output, so that no
# port is handed out twice).
PICKED=" "
free_port() {
	local p lo=32768
	if [[ -r /proc/sys/net/ipv4/ip_local_port_range ]]; then
		read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
	fi
	((lo > 11024)) || lo=65536 # an unusual range: fall back to the whole space
	for _ in $(seq 1 100); do
		if ((lo < 65536)); then
			p=$((RANDOM % (lo - 11024) + 10000))
		else
			p=$((RANDOM % 50000 + 10000))
		fi
		[[ $PICKED == *" $p "* ]] && continue
		if command -v ss >/dev/null; then
			[[ -z $(ss -Htuan "( sport = :$p )" 2>/dev/null) ]] || continue
		elif (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			continue
		fi
		PICKED+="$p "
		PORT=$p
		return
	done
	fail "no free port found"
}

if [[ $NETWORK == netns ]]; then
	# Without root eplink makes a user namespace of its own for the
	# instances (and says what the system lacks for it, if anything).
	need ip "apt-get install iproute2"
fi
need curl "apt-get install curl"
need dig "apt-get install dnsutils"

step "eplink"
if [[ -z ${EPLINK:-} ]]; then
	need go "or set EPLINK to an eplink binary"
	EPLINK="$TMP/eplink"
	(cd "$ROOT" && go build -o "$EPLINK" ./cmd/eplink) || fail "go build ./cmd/eplink failed"
fi
if [[ -n ${EPLINK_API:-} ]]; then
	API=$EPLINK_API
	DNS=${EPLINK_DNS:-127.0.0.1:53}
	echo "   using the running eplink at $API (DNS $DNS)"
else
	free_port && API=127.0.0.1:$PORT
	free_port && DNS=127.0.0.1:$PORT
	# The lab, with the consumer VPC (ENI addresses) in an unused 127.N/16
	# and the demo backends on free ports.
	for _ in $(seq 1 50); do
		net=$((RANDOM % 200 + 20))
		ss -Htln 2>/dev/null | grep -qF " 127.$net." || break
	done
	LAB=$TMP/lab.yaml
	free_port && backend1=$PORT
	free_port && backend2=$PORT
	sed -e "s/127\.11\./127.$net./g" -e "s/127\.0\.0\.1:18081/127.0.0.1:$backend1/" \
		-e "s/127\.0\.0\.1:18082/127.0.0.1:$backend2/" "$ROOT/examples/lab.yaml" >"$LAB"
	serve_args=(serve --lab "$LAB" --data-dir "$TMP/data" --api-addr "$API" --dns-addr "$DNS")
	if [[ $NETWORK == netns ]]; then
		# The guide's own addresses: they live only in eplink's VPCs.
		serve_args=(serve --lab "$ROOT/examples/lab-netns.yaml" --netns-prefix "$NETNS_PREFIX"
			--data-dir "$TMP/data" --api-addr "$API" --dns-addr "$DNS")
	fi
	# Short transitional states keep the run quick, where the flag exists.
	if "$EPLINK" serve --help 2>&1 | grep -q -- '-transition-delay'; then
		serve_args+=(--transition-delay 200ms)
	fi
	echo "   starting: eplink ${serve_args[*]}"
	"$EPLINK" "${serve_args[@]}" >"$TMP/serve.log" 2>&1 </dev/null &
	SERVE_PID=$!
	for _ in $(seq 1 100); do
		kill -0 "$SERVE_PID" 2>/dev/null || fail "eplink serve exited"
		api_try provider DescribeRegions >/dev/null && break
		sleep 0.2
	done
	echo "   eplink serve (pid $SERVE_PID): API $API, DNS $DNS"
fi
api_try provider DescribeRegions >/dev/null || fail "no eplink answers on $API: $(cat "$TMP/api.err")"
DNS_HOST=${DNS%:*} DNS_PORT=${DNS##*:}

step "provider: create an endpoint service on CLB1 (lb-clb1, $ZONE)"
SVC=$(api provider CreateVpcEndpointService --ServiceResourceType slb \
	--Resource.1.ResourceType slb --Resource.1.ResourceId lb-clb1 --Resource.1.ZoneId "$ZONE" \
	--AutoAcceptEnabled false --ServiceDescription "guide walkthrough" --cli-query ServiceId --wait Active)
[[ $SVC == epsrv-* ]] || fail "CreateVpcEndpointService returned ServiceId '$SVC'"
echo "   service $SVC"

step "provider: whitelist the consumer account $CONSUMER_UID"
api provider AddUserToVpcEndpointService --ServiceId "$SVC" --UserId "$CONSUMER_UID" >/dev/null
USERS=$(api provider ListVpcEndpointServiceUsers --ServiceId "$SVC" --UserId "$CONSUMER_UID" --cli-query 'Users[0].UserId')
expect "whitelisted user" "$USERS" "$CONSUMER_UID"

step "consumer: create an endpoint in vpc-consumer1, zone $ZONE"
EP=$(api consumer CreateVpcEndpoint --VpcId vpc-consumer1 --ServiceId "$SVC" --SecurityGroupId.1 sg-consumer1 \
	--Zone.1.ZoneId "$ZONE" --Zone.1.VSwitchId vsw-consumer1-h --EndpointName walkthrough \
	--cli-query EndpointId --wait Active)
[[ $EP == ep-* ]] || fail "CreateVpcEndpoint returned EndpointId '$EP'"
echo "   endpoint $EP"

step "consumer: the same endpoint through signature v3 (ACS3-HMAC-SHA256), as the current SDKs sign"
NAME=$(api consumer GetVpcEndpointAttribute --EndpointId "$EP" --signature v3 --cli-query EndpointName)
expect "EndpointName (v3)" "$NAME" walkthrough
# The current Node SDK core, where node and npm are installed: its packages
# go into a directory of this run (npm's own cache makes a rerun quick).
if [[ -n ${EPLINK_SKIP_NODE:-} ]]; then
	echo "   EPLINK_SKIP_NODE is set: the Node SDK check is skipped"
elif command -v node >/dev/null && command -v npm >/dev/null; then
	mkdir -p "$TMP/node"
	cp "$ROOT/examples/node/package.json" "$ROOT/examples/node/sdk-v3.js" "$TMP/node/"
	if ! (cd "$TMP/node" && timeout 300 npm install --no-audit --no-fund --loglevel=error >"$TMP/npm.log" 2>&1); then
		sed 's/^/   | /' "$TMP/npm.log" >&2
		fail "npm install of examples/node failed (is the npm registry reachable? EPLINK_SKIP_NODE=1 skips this check)"
	fi
	if ! ALIBABA_CLOUD_ACCESS_KEY_ID=$CONSUMER_KEY ALIBABA_CLOUD_ACCESS_KEY_SECRET=$CONSUMER_SECRET \
		EPLINK_API=$API REGION=$REGION timeout 60 node "$TMP/node/sdk-v3.js" "$EP" 2>&1 | sed 's/^/   . /'; then
		fail "the Node SDK (@alicloud/openapi-client, @alicloud/cms20190101, v3) failed"
	fi
else
	echo "   node/npm not installed: the Node SDK check is skipped (.ci/deps.sh installs them)"
fi

step "provider: accept the connection"
api provider EnableVpcEndpointConnection --ServiceId "$SVC" --EndpointId "$EP" --wait Connected >/dev/null
wait_zone Connected lb-clb1

step "consumer: curl ECS01 through the zone domain"
DOMAIN=$(zone_field ZoneDomain)
ENI1=$(zone_field EniIp)
IP1=$(resolve "$DOMAIN")
expect "$DOMAIN" "$IP1" "$ENI1"
fetch "$DOMAIN" "$IP1" "This is ECS01"
if [[ $NETWORK == netns ]]; then
	# The guide's step as written: log in to ECS03, curl the zone domain.
	if [[ $(id -u) == 0 ]]; then
		printf '   $ ip netns exec %s curl http://%s/\n' "$CLIENT" "$DOMAIN"
	else
		printf '   $ eplink exec ecs03 -- curl http://%s/\n' "$DOMAIN"
	fi
	body=$(in_client curl -sS --max-time 5 "http://$DOMAIN/" 2>&1) || fail "curl in $CLIENT: $body"
	expect "curl in $CLIENT" "$body" "Hello World ! This is ECS01."
fi
check_binds

step "provider: CloudMonitor alarm rule on CLB1's inbound bandwidth, webhook to a local receiver"
# The guide's rule (Average >= 100 Mbit/s over 1 period of 1 min, Warn,
# silence 30 min, 00:00-23:59), scaled to a lab: eplink takes a Period of
# 1 s, and a short wrk run stays far below 100 Mbit/s, so the threshold is
# 100 kbit/s and the condition must hold 2 periods in a row.
free_port && HOOK=127.0.0.1:$PORT
"$EPLINK" backend --listen "$HOOK" --name webhook >"$TMP/hook.log" 2>&1 </dev/null &
HOOK_PID=$!
cms PutContact --ContactName ops --Describe "on call" --Channels.Mail ops@example.com >/dev/null
cms PutContactGroup --ContactGroupName ops-group --ContactNames.1 ops >/dev/null
cms PutResourceMetricRule --RuleId clb1-inbound --RuleName "CLB1 inbound bandwidth" \
	--Namespace acs_privatelink --MetricName VpcEndpointServiceResourceInBps \
	--Resources "[{\"instanceId\":\"$SVC\",\"resourceId\":\"lb-clb1\"}]" --Period 1 \
	--Escalations.Warn.Statistics Average --Escalations.Warn.ComparisonOperator GreaterThanOrEqualToThreshold \
	--Escalations.Warn.Threshold 100000 --Escalations.Warn.Times 2 --SilenceTime 1800 \
	--EffectiveInterval 00:00-23:59 --ContactGroups ops-group --Webhook "http://$HOOK/" >/dev/null
sleep 2
expect "rule state before the load" "$(QUIET=1 cms DescribeMetricRuleList --RuleIds clb1-inbound \
	--cli-query 'Alarms.Alarm[0].AlertState')" OK

if command -v wrk >/dev/null; then
	step "consumer: 5s of wrk load on the zone's ENI, in the background"
	if [[ $NETWORK == netns ]]; then
		"$EPLINK" exec ecs03 -- wrk -t 1 -c 4 -d 5s --timeout 2s -H "Host: $DOMAIN" "http://$IP1/" >"$TMP/wrk.log" 2>&1 </dev/null &
	else
		wrk -t 1 -c 4 -d 5s --timeout 2s -H "Host: $DOMAIN" "http://$IP1/" >"$TMP/wrk.log" 2>&1 </dev/null &
	fi
	WRK_PID=$!
	echo "   wrk pid $WRK_PID"

	step "provider: the rule goes to ALARM (Warn) and the webhook is called"
	wait_cms "latest alert" WARN DescribeAlertLogList --RuleId clb1-inbound --cli-query 'AlertLogList[0].Level'
	wait_cms "webhook answer" 200 DescribeAlertLogList --RuleId clb1-inbound --cli-query 'AlertLogList[0].WebhookList[0].code'
	expect "alarm history" "$(QUIET=1 cms DescribeAlertHistoryList --RuleId clb1-inbound --Ascending true \
		--cli-query 'AlarmHistoryList.AlarmHistory[0].State')" ALARM
else
	step "consumer: wrk is not installed; no background load, no alarm"
fi

step "provider: add CLB2 (lb-clb2) to the service"
api provider AttachResourceToVpcEndpointService --ServiceId "$SVC" --ResourceId lb-clb2 --ResourceType slb \
	--ZoneId "$ZONE" --wait Active >/dev/null
# The guide: the resource being replaced must not be auto-allocated.
api provider UpdateVpcEndpointServiceResourceAttribute --ServiceId "$SVC" --ResourceId lb-clb1 --ZoneId "$ZONE" \
	--AutoAllocatedEnabled false --wait Active >/dev/null

step "provider: replace CLB1 by CLB2 smoothly (Graceful)"
api provider UpdateVpcEndpointZoneConnectionResourceAttribute --ServiceId "$SVC" --EndpointId "$EP" --ZoneId "$ZONE" \
	--ResourceReplaceMode Graceful --ResourceId lb-clb2 --ResourceType slb --wait Migrated >/dev/null
expect "zone resource" "$(zone_field ResourceId)" lb-clb2
expect "replaced resource" "$(zone_field ReplacedResourceId)" lb-clb1

step "consumer: the zone domain now leads to ECS02; the old ENI still to ECS01"
IP2=$(resolve "$DOMAIN")
[[ $IP2 != "$IP1" ]] || fail "$DOMAIN still resolves to the old ENI $IP1"
expect "$DOMAIN" "$IP2" "$(zone_field EniIp)"
fetch "$DOMAIN" "$IP2" "This is ECS02"
fetch "$DOMAIN" "$IP1" "This is ECS01"
check_binds

if [[ -n $WRK_PID ]]; then
	step "consumer: the load on the old ENI finishes undisturbed"
	wait "$WRK_PID" || fail "wrk failed: $(cat "$TMP/wrk.log")"
	WRK_PID=
	sed 's/^/   | /' "$TMP/wrk.log"
	grep -q 'requests in' "$TMP/wrk.log" || fail "wrk printed no result"
	! grep -qE 'Socket errors|Non-2xx' "$TMP/wrk.log" || fail "wrk saw errors during the Graceful migration"

	step "provider: the load is over, the rule is back to OK and the recovery notified"
	wait_cms "rule state" OK DescribeMetricRuleList --RuleIds clb1-inbound --cli-query 'Alarms.Alarm[0].AlertState'
	wait_cms "latest alert" OK DescribeAlertLogList --RuleId clb1-inbound --cli-query 'AlertLogList[0].Level'
	wait_cms "webhook answer" 200 DescribeAlertLogList --RuleId clb1-inbound --cli-query 'AlertLogList[0].WebhookList[0].code'
fi

step "provider: clean up the replaced resource (old ENI and CLB1)"
api provider DisableVpcEndpointZoneConnection --ServiceId "$SVC" --EndpointId "$EP" --ZoneId "$ZONE" \
	--ReplacedResource true >/dev/null
wait_zone Connected lb-clb2
expect "replaced resource" "$(zone_field_or_empty ReplacedResourceId)" ""
fetch "$DOMAIN" "$(resolve "$DOMAIN")" "This is ECS02"

step "provider: replace CLB2 by CLB1 forcibly (Force)"
api provider UpdateVpcEndpointServiceResourceAttribute --ServiceId "$SVC" --ResourceId lb-clb1 --ZoneId "$ZONE" \
	--AutoAllocatedEnabled true --wait Active >/dev/null
api provider UpdateVpcEndpointServiceResourceAttribute --ServiceId "$SVC" --ResourceId lb-clb2 --ZoneId "$ZONE" \
	--AutoAllocatedEnabled false --wait Active >/dev/null
api provider UpdateVpcEndpointZoneConnectionResourceAttribute --ServiceId "$SVC" --EndpointId "$EP" --ZoneId "$ZONE" \
	--ResourceReplaceMode Force --ResourceId lb-clb1 --ResourceType slb >/dev/null
wait_zone Connected lb-clb1
IP3=$(resolve "$DOMAIN")
expect "$DOMAIN" "$IP3" "$(zone_field EniIp)"
fetch "$DOMAIN" "$IP3" "This is ECS01"

step "clean up: delete the alarm rule, the contact group and the contact"
cms DeleteMetricRules --Id.1 clb1-inbound >/dev/null
cms DeleteContactGroup --ContactGroupName ops-group >/dev/null
cms DeleteContact --ContactName ops >/dev/null

step "clean up: reject the connection, remove the zone, delete the endpoint"
api provider DisableVpcEndpointConnection --ServiceId "$SVC" --EndpointId "$EP" --wait Disconnected >/dev/null
api consumer RemoveZoneFromVpcEndpoint --EndpointId "$EP" --ZoneId "$ZONE" --wait Deleted >/dev/null
api consumer DeleteVpcEndpoint --EndpointId "$EP" --wait Deleted >/dev/null

step "clean up: detach both CLBs, delete the service"
api provider DetachResourceFromVpcEndpointService --ServiceId "$SVC" --ResourceId lb-clb2 --ResourceType slb \
	--ZoneId "$ZONE" --wait Active >/dev/null
api provider DetachResourceFromVpcEndpointService --ServiceId "$SVC" --ResourceId lb-clb1 --ResourceType slb \
	--ZoneId "$ZONE" --wait Active >/dev/null
api provider DeleteVpcEndpointService --ServiceId "$SVC" --wait Deleted >/dev/null
LEFT=$(api consumer ListVpcEndpoints --EndpointId "$EP" --cli-query Endpoints)
expect "endpoints left" "$(tr -d ' \n' <<<"$LEFT")" "[]"

if [[ $NETWORK == netns && -n $SERVE_PID ]]; then
	step "stop eplink: its namespaces, /etc/netns files and TUNs go with it"
	kill -TERM "$SERVE_PID"
	for _ in $(seq 1 100); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$SERVE_PID" 2>/dev/null || fail "eplink did not stop within 10s of SIGTERM"
	SERVE_PID=
	left=$(ls -d /run/netns/"$NETNS_PREFIX"* /etc/netns/"$NETNS_PREFIX"* 2>/dev/null || true)
	[[ -z $left ]] || fail "left behind: $left"
	echo "   ok: nothing left"
fi

printf '\nwalkthrough passed (%s front end)\n' "$NETWORK"
