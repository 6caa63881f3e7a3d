package changes

import (
	"fmt"
	"strconv"
	"strings"
)

// Why RLS checks wait for visibility.
//
// A row's RLS verdict is decided by re-reading it by primary key as the subscriber's role (as
// upstream's apply_rls does), so the reading snapshot must already contain the row's commit.
// The replication stream does not guarantee that: with synchronous_commit=on, a committing
// backend flushes its commit record, which wakes the walsender, and only afterwards marks the
// transaction committed in the procarray. For a few microseconds (or, with a synchronous standby,
// until the standby answers) the walsender can hand us a commit that no new snapshot sees yet;
// a check in that window read "no such row" and dropped a change the subscriber was allowed to
// see. So every RLS check runs in a REPEATABLE READ transaction whose snapshot is returned with
// the verdicts (same round trip), and verdicts count only when that snapshot contains every
// checked transaction; otherwise the processor waits until one does and checks again.
// Visibility is monotonic: once a snapshot contains a commit, every later snapshot does.

// pgSnapshot is a parsed pg_snapshot (pg_current_snapshot()::text: "xmin:xmax:xip,...") reduced
// to 32-bit transaction ids, the form pgoutput's Begin message carries.
type pgSnapshot struct {
	xmin, xmax uint32
	xip        map[uint32]struct{}
}

func parseSnapshot(s string) (pgSnapshot, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return pgSnapshot{}, fmt.Errorf("snapshot %q: want xmin:xmax:xip", s)
	}
	xmin, err1 := strconv.ParseUint(parts[0], 10, 64)
	xmax, err2 := strconv.ParseUint(parts[1], 10, 64)
	if err1 != nil || err2 != nil || xmin > xmax {
		return pgSnapshot{}, fmt.Errorf("snapshot %q: bad xmin or xmax", s)
	}
	snap := pgSnapshot{xmin: uint32(xmin), xmax: uint32(xmax)}
	if parts[2] != "" {
		snap.xip = map[uint32]struct{}{}
		for _, f := range strings.Split(parts[2], ",") {
			x, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				return pgSnapshot{}, fmt.Errorf("snapshot %q: bad xip %q", s, f)
			}
			snap.xip[uint32(x)] = struct{}{}
		}
	}
	return snap, nil
}

// xidPrecedes compares 32-bit transaction ids modulo 2^32, as Postgres' TransactionIdPrecedes
// does for normal ids: the stream's ids are recent, far less than 2^31 from the snapshot's.
func xidPrecedes(a, b uint32) bool { return int32(a-b) < 0 }

// sees reports whether a committed transaction is visible in the snapshot: it completed before
// the snapshot was taken (precedes xmax) and was not running then (not in xip).
func (s pgSnapshot) sees(xid uint32) bool {
	if !xidPrecedes(xid, s.xmax) {
		return false
	}
	_, running := s.xip[xid]
	return !running
}

// seesAll reports whether every transaction in xids is visible; the first invisible one is
// returned for logging.
func (s pgSnapshot) seesAll(xids []uint32) (uint32, bool) {
	for _, x := range xids {
		if !s.sees(x) {
			return x, false
		}
	}
	return 0, true
}
