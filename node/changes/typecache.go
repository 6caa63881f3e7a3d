package changes

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
)

// typeCache resolves column type OIDs to typeInfo for one tenant database: built-in types are
// static, the rest (enums, domains, extension types and their arrays) come from pg_type once.
type typeCache struct {
	mu    sync.Mutex
	types map[uint32]*typeInfo
}

func newTypeCache() *typeCache { return &typeCache{types: map[uint32]*typeInfo{}} }

func (c *typeCache) lookup(oid uint32) (*typeInfo, bool) {
	if t, ok := builtinTypes[oid]; ok {
		return t, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.types[oid]
	return t, ok
}

type pgTypeRow struct {
	oid, elem, base uint32
	name            string
	delim           string
	category        string
}

// resolve makes every oid (and the element/base types they need) known.
func (c *typeCache) resolve(ctx context.Context, pool *pgxpool.Pool, oids []uint32) error {
	rows := map[uint32]pgTypeRow{}
	pending := missing(c, oids, rows)
	for round := 0; len(pending) > 0 && round < 8; round++ {
		res, err := pool.Query(ctx, `select oid, typname::text, typelem, typbasetype, typdelim::text, typcategory::text
			from pg_type where oid = any($1)`, pending)
		if err != nil {
			return fmt.Errorf("read pg_type: %w", err)
		}
		for res.Next() {
			var r pgTypeRow
			if err := res.Scan(&r.oid, &r.name, &r.elem, &r.base, &r.delim, &r.category); err != nil {
				res.Close()
				return fmt.Errorf("scan pg_type: %w", err)
			}
			rows[r.oid] = r
		}
		res.Close()
		if err := res.Err(); err != nil {
			return fmt.Errorf("read pg_type: %w", err)
		}
		var next []uint32
		for _, oid := range pending {
			r, ok := rows[oid]
			if !ok {
				rows[oid] = pgTypeRow{oid: oid, name: fmt.Sprint(oid)} // vanished type: text
				continue
			}
			next = append(next, missing(c, []uint32{r.elem, r.base}, rows)...)
		}
		pending = next
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for oid := range rows {
		c.build(oid, rows, 0)
	}
	return nil
}

func missing(c *typeCache, oids []uint32, rows map[uint32]pgTypeRow) []uint32 {
	var out []uint32
	for _, o := range oids {
		if o == 0 {
			continue
		}
		if _, ok := c.lookup(o); ok {
			continue
		}
		if _, ok := rows[o]; !ok {
			out = append(out, o)
		}
	}
	return out
}

// build creates the typeInfo for oid; c.mu is held.
func (c *typeCache) build(oid uint32, rows map[uint32]pgTypeRow, depth int) *typeInfo {
	if t, ok := builtinTypes[oid]; ok {
		return t
	}
	if t, ok := c.types[oid]; ok {
		return t
	}
	r, ok := rows[oid]
	if !ok || depth > 8 {
		return &typeInfo{oid: oid, name: fmt.Sprint(oid), kind: kString}
	}
	t := &typeInfo{oid: oid, name: r.name, kind: kString}
	switch {
	case r.base != 0: // domain: encodes like its base type
		b := c.build(r.base, rows, depth+1)
		t.kind, t.elem, t.delim = b.kind, b.elem, b.delim
	case r.category == "A" && r.elem != 0:
		e := c.build(r.elem, rows, depth+1)
		t.kind, t.elem, t.delim = kArray, e, ','
		if er, ok := rows[r.elem]; ok && len(er.delim) == 1 {
			t.delim = er.delim[0]
		}
	}
	c.types[oid] = t
	return t
}
