package gateway

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/openclaw/openclaw-go/pkg/openai"
)

// imageFetchTimeout bounds fetching one remote image.
const imageFetchTimeout = 15 * time.Second

// imageClient fetches remote images. It follows at most three redirects.
var imageClient = &http.Client{
	CheckRedirect: func(_ *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return fmt.Errorf("more than 3 redirects")
		}
		return nil
	},
}

func isRemoteURL(u string) bool {
	return len(u) >= 8 && (strings.EqualFold(u[:7], "http://") || strings.EqualFold(u[:8], "https://"))
}

// fetchImages replaces the http(s) URLs among urls with data: URLs of the
// images they name, when images.allowUrl is on, so that DecodeImages applies
// the same types and limits to every image. Otherwise (or when there are too
// many images anyway) urls are returned as they are, for DecodeImages to
// refuse. The downloads together are bounded by maxTotalImageBytes, each by
// imageFetchTimeout and the request's context. The caller is the operator
// (bearer auth) and the gateway fetches what it is told to: keep allowUrl
// off where the gateway can reach what callers must not.
func fetchImages(ctx context.Context, urls []string, lim openai.ImageLimits) ([]string, *openai.Error) {
	if !lim.AllowURL || len(urls) > lim.MaxParts {
		return urls, nil
	}
	var out []string
	var total int64
	for i, u := range urls {
		if !isRemoteURL(u) {
			continue
		}
		if out == nil {
			out = append([]string(nil), urls...)
		}
		data, mimeType, err := fetchImage(ctx, u, lim.MaxTotalBytes-total)
		if err == errImageTooLarge {
			return nil, openai.InvalidRequest(fmt.Sprintf("images too large: image %d takes them over the limit of %d bytes in total (gateway.http.endpoints.chatCompletions.maxTotalImageBytes)", i+1, lim.MaxTotalBytes), "messages")
		}
		if err != nil {
			return nil, openai.InvalidRequest(fmt.Sprintf("image %d: %v", i+1, err), "messages")
		}
		total += int64(len(data))
		out[i] = "data:" + mimeType + ";base64," + base64.StdEncoding.EncodeToString(data)
	}
	if out == nil {
		return urls, nil
	}
	return out, nil
}

var errImageTooLarge = errors.New("image too large")

// fetchImage downloads one image of at most max bytes. Its errors are
// client-facing: they say what went wrong without the transport's details.
func fetchImage(ctx context.Context, u string, max int64) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(ctx, imageFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", errors.New("invalid image URL")
	}
	req.Header.Set("Accept", "image/*")
	resp, err := imageClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", errors.New("fetching the image URL timed out")
		}
		return nil, "", errors.New("could not fetch the image URL")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("fetching the image URL failed: HTTP %d", resp.StatusCode)
	}
	if resp.ContentLength > max {
		return nil, "", errImageTooLarge
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, "", errors.New("could not fetch the image URL")
	}
	if int64(len(data)) > max {
		return nil, "", errImageTooLarge
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if !strings.HasPrefix(mt, "image/") {
		mt = http.DetectContentType(data)
	}
	return data, mt, nil
}
