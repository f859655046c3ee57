//go:build arrowdecode

package segment

// arrowDecoders: this build reads every segment with arrow-go's own
// readers (arrowread.go), not Silt's (see arrowdecode_off.go).
const arrowDecoders = true
