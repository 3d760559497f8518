package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/internal/sqlstore"
)

var (
	_ store.SubjectEraser = (*DB)(nil)
	_ store.AuditStore    = (*DB)(nil)
)

// EraseSubject erases every record of id (store.SubjectEraser) in one
// transaction. PostgreSQL keeps deleted row versions in the table files
// until VACUUM reclaims them, and in its WAL and backups until those
// expire; queries never see them again.
func (db *DB) EraseSubject(ctx context.Context, id string) (store.Erasure, error) {
	var e store.Erasure
	if id == "" {
		return e, errors.New("postgres: erase: empty id")
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		e, err = sqlstore.EraseIn(ctx, db.shared, querier{tx}, id)
		return err
	})
	if err != nil {
		return store.Erasure{}, err
	}
	return e, nil
}
