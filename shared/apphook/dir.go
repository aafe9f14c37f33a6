package apphook

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Dir parks deliveries as one JSON file each in a folder (the local stack).
type Dir string

func (d Dir) path(id string) (string, bool) {
	if id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return "", false
	}
	return filepath.Join(string(d), id+".json"), true
}

// Park writes d's file whole or not at all.
func (d Dir) Park(_ context.Context, p Delivery) error {
	path, ok := d.path(p.ID)
	if !ok {
		return errors.New("apphook: an event id that cannot name a file: " + p.ID)
	}
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Parked reads the folder in id order.
func (d Dir) Parked(_ context.Context, after string, limit int) ([]Delivery, string, error) {
	entries, err := os.ReadDir(string(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	var ids []string
	for _, e := range entries {
		if id, ok := strings.CutSuffix(e.Name(), ".json"); ok && id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var out []Delivery
	for _, id := range ids {
		if len(out) == limit {
			return out, out[len(out)-1].ID, nil
		}
		b, err := os.ReadFile(filepath.Join(string(d), id+".json"))
		if errors.Is(err, fs.ErrNotExist) {
			continue // redriven meanwhile
		}
		if err != nil {
			return nil, "", err
		}
		var p Delivery
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, "", err
		}
		out = append(out, p)
	}
	return out, "", nil
}

// Unpark reads and removes id's file.
func (d Dir) Unpark(_ context.Context, id string) (Delivery, error) {
	path, ok := d.path(id)
	if !ok {
		return Delivery{}, ErrNotParked
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Delivery{}, ErrNotParked
	}
	if err != nil {
		return Delivery{}, err
	}
	var p Delivery
	if err := json.Unmarshal(b, &p); err != nil {
		return Delivery{}, err
	}
	if err := os.Remove(path); errors.Is(err, fs.ErrNotExist) {
		return Delivery{}, ErrNotParked // another redrive took it
	} else if err != nil {
		return Delivery{}, err
	}
	return p, nil
}
