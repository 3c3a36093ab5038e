package specfiles

import (
	"crypto/sha512"
	"fmt"
	"strings"
)

// Index is index.json: the ETag of each document's JSON.
type Index struct {
	V2 string `json:"v2"`
	// V3 maps a document's path ("api/v1", "apis/apps/v1") to its ETag,
	// which is also the hash in its /openapi/v3 URL.
	V3 map[string]string `json:"v3"`
}

// IndexFile is the index's name in the spec directory.
const IndexFile = "index.json"

// V2JSON and V2Proto are the v2 document's files.
const (
	V2JSON  = "v2.json.gz"
	V2Proto = "v2.pb.gz"
)

// V3JSON and V3Proto are the files of the v3 document at path.
func V3JSON(path string) string  { return "v3/" + v3Name(path) + ".json.gz" }
func V3Proto(path string) string { return "v3/" + v3Name(path) + ".pb.gz" }

func v3Name(path string) string { return strings.ReplaceAll(path, "/", "__") }

// ETag is kube-apiserver's: the SHA-512 of a document's JSON, in
// upper-case hex.
func ETag(json []byte) string { return fmt.Sprintf("%X", sha512.Sum512(json)) }
