package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	openapiv2 "github.com/google/gnostic-models/openapiv2"
	openapiv3 "github.com/google/gnostic-models/openapiv3"
	"google.golang.org/protobuf/proto"

	"github.com/shoalproject/shoal/kubeapi/openapi/internal/specfiles"
)

// encode turns the documents into the spec directory's files, by name,
// uncompressed: each document as JSON and as gnostic's protobuf (what
// kube-apiserver serves for the protobuf media types), and the index of
// their ETags.
func encode(d *documents) (map[string][]byte, error) {
	files := map[string][]byte{}
	v2, err := d.v2.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("v2: %w", err)
	}
	doc2, err := openapiv2.ParseDocument(v2)
	if err != nil {
		return nil, fmt.Errorf("v2 as protobuf: %w", err)
	}
	if files[specfiles.V2Proto], err = marshalProto(doc2); err != nil {
		return nil, fmt.Errorf("v2 as protobuf: %w", err)
	}
	files[specfiles.V2JSON] = v2
	index := specfiles.Index{V2: specfiles.ETag(v2), V3: map[string]string{}}
	for path, doc := range d.v3 {
		js, err := json.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("v3 %s: %w", path, err)
		}
		doc3, err := openapiv3.ParseDocument(js)
		if err != nil {
			return nil, fmt.Errorf("v3 %s as protobuf: %w", path, err)
		}
		if files[specfiles.V3Proto(path)], err = marshalProto(doc3); err != nil {
			return nil, fmt.Errorf("v3 %s as protobuf: %w", path, err)
		}
		files[specfiles.V3JSON(path)] = js
		index.V3[path] = specfiles.ETag(js)
	}
	if files[specfiles.IndexFile], err = json.MarshalIndent(index, "", "  "); err != nil {
		return nil, err
	}
	return files, nil
}

func marshalProto(m proto.Message) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

// write puts the files into dir: the index as it is, the documents
// gzipped. A file whose content has not changed is left alone, so that
// regenerating does not churn the committed gzip bytes. Files of
// documents no longer made are removed.
func write(dir string, files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(dir, name)
		if old, err := readFile(path); err == nil && bytes.Equal(old, files[name]) {
			continue
		}
		data := files[name]
		if filepath.Ext(name) == ".gz" {
			var err error
			if data, err = gzipped(data); err != nil {
				return err
			}
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	// Remove the documents of group versions no longer served.
	return filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if _, ok := files[filepath.ToSlash(rel)]; !ok && filepath.Ext(path) == ".gz" {
			return os.Remove(path)
		}
		return nil
	})
}

// readFile reads a file of the spec directory, gunzipping documents.
func readFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil || filepath.Ext(path) != ".gz" {
		return data, err
	}
	return gunzipped(data)
}

func gzipped(data []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func gunzipped(data []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if err := r.Close(); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return out, nil
}
