package openai

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/openclaw/openclaw-go/pkg/provider"
)

// ImageLimits bound the images of one request. Zero limits allow no image.
type ImageLimits struct {
	MaxParts      int   // gateway.http.endpoints.chatCompletions.maxImageParts
	MaxTotalBytes int64 // gateway.http.endpoints.chatCompletions.maxTotalImageBytes, decoded
	// AllowURL is gateway.http.endpoints.chatCompletions.images.allowUrl.
	// Fetching remote images is not implemented: with it set, a remote URL
	// is still refused, with a message that says so.
	AllowURL bool
}

// ImageMIMEs are the accepted image types.
var ImageMIMEs = []string{"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif"}

const imageFix = "send the image inline as data:<mime>;base64,<data>"

// DecodeImages decodes the image URLs of the current turn
// (Prompt.ImageParts). Only data:<mime>;base64,<data> URLs of ImageMIMEs
// are accepted (image/jpg is read as image/jpeg; a MIME that contradicts the
// data's magic bytes is corrected). Every failure is a 400 naming the image
// (1-based) and the fix: too many images, a remote or other URL, a MIME
// outside ImageMIMEs, broken base64, or more than MaxTotalBytes in total.
func DecodeImages(urls []string, lim ImageLimits) ([]provider.Image, *Error) {
	if len(urls) == 0 {
		return nil, nil
	}
	if len(urls) > lim.MaxParts {
		return nil, InvalidRequest(fmt.Sprintf("too many images: %d image_url parts, the limit is %d (gateway.http.endpoints.chatCompletions.maxImageParts)", len(urls), lim.MaxParts), "messages")
	}
	imgs := make([]provider.Image, 0, len(urls))
	var total int64
	for i, u := range urls {
		n := i + 1
		mime, data, err := parseDataURL(n, u, lim.AllowURL)
		if err != nil {
			return nil, err
		}
		data = stripSpace(data)
		// Refuse before allocating: valid base64 tells its decoded size.
		size := int64(base64.RawStdEncoding.DecodedLen(len(strings.TrimRight(data, "="))))
		if total+size > lim.MaxTotalBytes {
			return nil, tooLarge(total+size, lim.MaxTotalBytes)
		}
		raw, derr := decodeBase64(data)
		if derr != nil {
			return nil, InvalidRequest(fmt.Sprintf("image %d: invalid base64 data; %s", n, imageFix), "messages")
		}
		total += int64(len(raw))
		if sniffed := sniffImage(raw); sniffed != "" {
			mime = sniffed
		}
		imgs = append(imgs, provider.Image{MIME: mime, Data: raw})
	}
	return imgs, nil
}

func tooLarge(total, limit int64) *Error {
	return InvalidRequest(fmt.Sprintf("images too large: %d bytes in total, the limit is %d (gateway.http.endpoints.chatCompletions.maxTotalImageBytes)", total, limit), "messages")
}

// parseDataURL splits data:<mime>[;param]*;base64,<data>.
func parseDataURL(n int, u string, allowURL bool) (mime, data string, err *Error) {
	if len(u) < 5 || !strings.EqualFold(u[:5], "data:") {
		switch {
		case hasPrefixFold(u, "http://") || hasPrefixFold(u, "https://"):
			if allowURL {
				return "", "", InvalidRequest(fmt.Sprintf("image %d: remote image URLs are not supported yet; %s", n, imageFix), "messages")
			}
			return "", "", InvalidRequest(fmt.Sprintf("image %d: remote image URLs are not allowed; %s", n, imageFix), "messages")
		case u == "":
			return "", "", InvalidRequest(fmt.Sprintf("image %d: empty image URL; %s", n, imageFix), "messages")
		}
		return "", "", InvalidRequest(fmt.Sprintf("image %d: unsupported image URL; %s", n, imageFix), "messages")
	}
	meta, data, ok := strings.Cut(u[5:], ",")
	if !ok {
		return "", "", InvalidRequest(fmt.Sprintf("image %d: data URL has no comma; %s", n, imageFix), "messages")
	}
	params := strings.Split(meta, ";")
	mime = strings.ToLower(strings.TrimSpace(params[0]))
	b64 := false
	for _, p := range params[1:] {
		b64 = b64 || strings.EqualFold(strings.TrimSpace(p), "base64")
	}
	if !b64 {
		return "", "", InvalidRequest(fmt.Sprintf("image %d: data URL must be base64-encoded; %s", n, imageFix), "messages")
	}
	if mime == "image/jpg" {
		mime = "image/jpeg"
	}
	okMIME := false
	for _, m := range ImageMIMEs {
		okMIME = okMIME || m == mime
	}
	if !okMIME {
		return "", "", InvalidRequest(fmt.Sprintf("image %d: unsupported image type %q; use image/jpeg, image/png, image/gif, image/webp, image/heic or image/heif", n, mime), "messages")
	}
	if strings.TrimSpace(data) == "" {
		return "", "", InvalidRequest(fmt.Sprintf("image %d: data URL has no data; %s", n, imageFix), "messages")
	}
	return mime, data, nil
}

// stripSpace drops the line breaks and spaces some clients wrap base64 with.
func stripSpace(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}

// decodeBase64 reads standard base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	enc := base64.StdEncoding
	if len(s)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	return enc.Strict().DecodeString(s)
}

// sniffImage names the type of well-known image data, "" when unknown
// (HEIC/HEIF brands vary too much to second-guess).
func sniffImage(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return "image/jpeg"
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return "image/gif"
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "image/webp"
	}
	return ""
}
