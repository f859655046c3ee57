//go:build !arrowdecode

package segment

// arrowDecoders says whether Read and Scan decode through arrow-go's own
// readers (pqarrow, arrowread.go) instead of Silt's: the cursors of Read
// (cursor.go, decode.go) and the column decoders of Scan (arrowcols.go,
// package pagecodec). It is true only in the arrowdecode build
// (`go test -tags arrowdecode`, `make test-arrow-decoders`), a test switch
// that checks the hand decoders against the library and makes an arrow-go
// upgrade a one-flag experiment. Files and their format are the same
// either way; ScanRows, SeekTime and the seq search of Read use arrow-go's
// readers in both builds.
const arrowDecoders = false
