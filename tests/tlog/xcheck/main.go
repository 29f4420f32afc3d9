// xcheck: what golang.org/x/mod/sumdb/tlog and sumdb/note — Go's independent implementations of
// RFC 6962 trees and of C2SP signed notes — say, for tlog_xcheck_test to compare with
// libs/tlog. Lines on stdout:
//
//	root <size> <hex>
//	incl <size> <index> <hex,hex,…>
//	cons <old size> <size> <hex,hex,…>
//	tile <level> <index> <width> <path> <hex SHA-256 of the tile's bytes>   (tiles SIZE)
//
// and the note commands: keygen NAME (signer key, verifier key), sign SKEY (stdin text → note),
// open VKEY (stdin note → text, exit 1 when it does not verify).
package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type memory []tlog.Hash

func (m memory) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = m[x]
	}
	return out, nil
}

func join(proof []tlog.Hash) string {
	parts := make([]string, len(proof))
	for i, h := range proof {
		parts[i] = hex.EncodeToString(h[:])
	}
	return strings.Join(parts, ",")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "xcheck:", err)
	os.Exit(1)
}

func vectors(max int64) {
	var store memory
	for n := int64(0); n < max; n++ {
		hashes, err := tlog.StoredHashes(n, []byte(fmt.Sprintf("entrée %d", n)), store)
		if err != nil {
			fail(err)
		}
		store = append(store, hashes...)
		size := n + 1
		root, err := tlog.TreeHash(size, store)
		if err != nil {
			fail(err)
		}
		fmt.Printf("root %d %s\n", size, hex.EncodeToString(root[:]))
		for i := int64(0); i < size; i++ {
			p, err := tlog.ProveRecord(size, i, store)
			if err != nil {
				fail(err)
			}
			fmt.Printf("incl %d %d %s\n", size, i, join(p))
		}
		for m := int64(1); m < size; m++ {
			p, err := tlog.ProveTree(size, m, store)
			if err != nil {
				fail(err)
			}
			fmt.Printf("cons %d %d %s\n", m, size, join(p))
		}
	}
}

// Every tile (height 8, as C2SP tlog-tiles) of a tree of `size` records.
func tiles(size int64) {
	var store memory
	for n := int64(0); n < size; n++ {
		hashes, err := tlog.StoredHashes(n, []byte(fmt.Sprintf("entrée %d", n)), store)
		if err != nil {
			fail(err)
		}
		store = append(store, hashes...)
	}
	for _, t := range tlog.NewTiles(8, 0, size) {
		data, err := tlog.ReadTileData(t, store)
		if err != nil {
			fail(err)
		}
		sum := sha256.Sum256(data)
		fmt.Printf("tile %d %d %d %s %s\n", t.L, t.N, t.W, t.Path(), hex.EncodeToString(sum[:]))
	}
}

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: xcheck vectors | keygen NAME | sign SKEY | open VKEY"))
	}
	switch os.Args[1] {
	case "vectors":
		vectors(64)
	case "tiles":
		var size int64
		fmt.Sscan(os.Args[2], &size)
		tiles(size)
	case "keygen":
		skey, vkey, err := note.GenerateKey(rand.Reader, os.Args[2])
		if err != nil {
			fail(err)
		}
		fmt.Println(skey)
		fmt.Println(vkey)
	case "sign":
		signer, err := note.NewSigner(os.Args[2])
		if err != nil {
			fail(err)
		}
		text, _ := io.ReadAll(os.Stdin)
		msg, err := note.Sign(&note.Note{Text: string(text)}, signer)
		if err != nil {
			fail(err)
		}
		os.Stdout.Write(msg)
	case "open":
		verifier, err := note.NewVerifier(os.Args[2])
		if err != nil {
			fail(err)
		}
		msg, _ := io.ReadAll(os.Stdin)
		n, err := note.Open(msg, note.VerifierList(verifier))
		if err != nil {
			fail(err)
		}
		fmt.Print(n.Text)
	default:
		fail(fmt.Errorf("unknown command %q", os.Args[1]))
	}
}
