# bench/traces/log2trace.awk - turn an nbdkit log filter file (logfile=) into a
# storm trace: one request per line, in the order the client sent them,
#
#   OP OFFSET LENGTH AFTER WAIT_US
#
# OP is R (read), W (write), F (flush), T (trim) or Z (write zeroes);
# OFFSET and LENGTH are in bytes (0 for a flush). AFTER says which request
# this one waited for: the one AFTER lines back is the last that had
# completed when this one was sent (0: none had). WAIT_US is the time from
# the later of that completion and the previous request's sending to this
# one's sending: the client's own time (guest CPU, think time). A replay
# sends a request once the previous one is sent, the one AFTER back has
# completed and WAIT_US more have passed, so it keeps the recorded
# concurrency and the recorded pauses. With -v image=FROM, a comment line
# "# image: FROM" names the image source it was recorded from.
function secs(d, t,   p) {
	split(t, p, ":")
	return p[1] * 3600 + p[2] * 60 + p[3]
}
function hex(s,   i, v, c) {
	v = 0
	if (substr(s, 1, 2) != "0x")
		return s + 0
	for (i = 3; i <= length(s); i++) {
		c = index("0123456789abcdef", tolower(substr(s, i, 1)))
		if (!c)
			break
		v = v * 16 + c - 1
	}
	return v
}
function field(name,   i, kv) {
	for (i = 3; i <= NF; i++)
		if (index($i, name "=") == 1)
			return substr($i, length(name) + 2)
	return ""
}
BEGIN {
	ops["Read"] = "R"; ops["Write"] = "W"; ops["Flush"] = "F"; ops["Trim"] = "T"; ops["Zero"] = "Z"
	n = 0; lastdone = -1; lastdone_t = -1; prev_t = -1
	print "# storm trace: OP OFFSET LENGTH AFTER WAIT_US (bench/traces/README.md)"
	if (image != "")
		print "# image: " image
}
$3 ~ /^connection=/ {
	t = secs($1, $2)
	op = $4
	key = $3 " " field("id")
	if (substr(op, 1, 3) == "...") {
		if (key in pending) {
			lastdone = pending[key]
			lastdone_t = t
			delete pending[key]
		}
		next
	}
	if (!(op in ops))
		next
	off = field("offset"); cnt = field("count")
	off = off == "" ? 0 : hex(off)
	cnt = cnt == "" ? 0 : hex(cnt)
	after = lastdone >= 0 ? n - lastdone : 0
	base = prev_t > lastdone_t ? prev_t : lastdone_t
	wait = base < 0 ? 0 : int((t - base) * 1e6 + 0.5)
	if (wait < 0)
		wait = 0
	printf "%s %.0f %.0f %d %d\n", ops[op], off, cnt, after, wait
	pending[key] = n
	prev_t = t
	n++
}
