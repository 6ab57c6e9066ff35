package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// PartSize is the S3 multipart part size: objects up to PartSize bytes are
// sent with one PutObject, larger or unknown-size ones as a multipart
// upload of PartSize parts (spec: multipart above 16 MiB).
const PartSize = 16 << 20

// smallPut is the largest known size read into an exactly-sized buffer;
// larger uploads reuse pooled PartSize buffers instead of making garbage.
const smallPut = 1 << 20

// maxParts is S3's limit on parts per upload (16 MiB × 10 000 ≈ 156 GiB).
const maxParts = 10000

// maxPresignTTL is SigV4's limit on presigned URL lifetimes.
const maxPresignTTL = 7 * 24 * time.Hour

// S3 is the S3 backend.
//
// Multipart uploads are done here rather than with feature/s3/manager (or
// its successor transfermanager): both read the first part of a
// non-seekable stream with io.ReadAll (≈2× the part size in garbage) and
// keep Concurrency+1 part buffers, whereas uploads here reuse one pooled
// PartSize buffer and send parts sequentially, which bounds memory at one
// part per in-flight upload.
type S3 struct {
	client  *s3.Client
	presign *s3.PresignClient
	idle    *http.Transport
	bucket  string
	prefix  string
	bufs    sync.Pool
}

var _ Store = (*S3)(nil)

// NewS3 builds an S3 store. Credentials come from cfg (static) or the
// standard AWS chain. Nothing is contacted until the first call.
func NewS3(ctx context.Context, cfg Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("blob: s3 backend needs a bucket (S3_BUCKET)")
	}
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("blob: S3_ENDPOINT %q is not an http(s) URL", cfg.Endpoint)
		}
	}
	if (cfg.AccessKeyID == "") != (cfg.SecretAccessKey == "") {
		return nil, errors.New("blob: set both or neither of the static S3 access key and secret")
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		if err := ValidateKey(prefix); err != nil {
			return nil, fmt.Errorf("blob: S3_PREFIX: %w", err)
		}
		prefix += "/"
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		// A BuildableClient, so the AWS chain can apply AWS_CA_BUNDLE and
		// the defaults mode to it.
		config.WithHTTPClient(awshttp.NewBuildableClient()),
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("blob: loading AWS configuration: %w", err)
	}
	// Then an http.Client whose transport we own (a copy of the configured
	// one: timeouts, TLS roots, pooling), so Close can drop its idle
	// connections; BuildableClient only ever hands out copies.
	var transport *http.Transport
	if bc, ok := awsCfg.HTTPClient.(*awshttp.BuildableClient); ok {
		transport = bc.GetTransport()
	} else {
		transport = awshttp.NewBuildableClient().GetTransport()
	}
	httpClient := &http.Client{
		Transport: transport,
		// Redirects (wrong region) are answered by the SDK, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.HTTPClient = httpClient
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
	})
	s := &S3{
		client:  client,
		presign: s3.NewPresignClient(client),
		idle:    transport,
		bucket:  cfg.Bucket,
		prefix:  prefix,
	}
	s.bufs.New = func() any {
		b := make([]byte, PartSize)
		return &b
	}
	return s, nil
}

func (s *S3) objectKey(key string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	return s.prefix + key, nil
}

// Put implements Store. Known sizes up to 1 MiB are read into an
// exactly-sized buffer; anything else goes through a pooled PartSize
// buffer: a single PutObject if the stream fits in one part (≤ 16 MiB), a
// sequential multipart upload otherwise. Put ends with a HeadObject so the
// returned Info carries the stored ETag and modification time. Request bodies
// are always seekable buffers, so SigV4 payload hashing and the default
// CRC32 checksums work over plain http endpoints too.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (Info, error) {
	ok, err := s.objectKey(key)
	if err != nil {
		return Info{}, err
	}
	contentType = contentTypeOrDefault(contentType)

	var n int64
	if size >= 0 && size <= smallPut {
		buf := make([]byte, size)
		if err := readExact(r, buf); err != nil {
			return Info{}, fmt.Errorf("blob: put %q: %w", key, err)
		}
		err = s.putObject(ctx, ok, buf, contentType)
		n = size
	} else {
		n, err = s.putStream(ctx, ok, r, size, contentType)
	}
	if err != nil {
		return Info{}, fmt.Errorf("blob: put %q: %w", key, err)
	}
	info, err := s.Stat(ctx, key)
	if err != nil {
		return Info{}, err
	}
	if info.Size != n {
		return Info{}, fmt.Errorf("blob: put %q: stored %d bytes, sent %d", key, info.Size, n)
	}
	return info, nil
}

// readExact fills buf and checks that r ends right there.
func readExact(r io.Reader, buf []byte) error {
	n, err := io.ReadFull(r, buf)
	if errors.Is(err, io.ErrUnexpectedEOF) || (errors.Is(err, io.EOF) && len(buf) > 0) {
		return fmt.Errorf("%w: got %d bytes, want %d", ErrSizeMismatch, n, len(buf))
	}
	if err != nil {
		return err
	}
	return expectEOF(r, int64(len(buf)))
}

// expectEOF checks that r, having delivered want bytes, has no more.
func expectEOF(r io.Reader, want int64) error {
	var one [1]byte
	m, err := io.ReadFull(r, one[:])
	if m > 0 {
		return fmt.Errorf("%w: more than %d bytes", ErrSizeMismatch, want)
	}
	if !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading upload data: %w", err)
	}
	return nil
}

func (s *S3) putObject(ctx context.Context, objectKey string, body []byte, contentType string) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(objectKey),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String(contentType),
	})
	return err
}

// putStream uploads r (size bytes, or -1) through one pooled part buffer.
func (s *S3) putStream(ctx context.Context, objectKey string, r io.Reader, size int64, contentType string) (int64, error) {
	bufp, _ := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bufp)
	buf := *bufp

	n, last, err := fillPart(r, buf)
	if err != nil {
		return 0, err
	}
	if !last && size == int64(n) {
		// Exactly one full part: make sure the stream really ends here.
		if err := expectEOF(r, size); err != nil {
			return 0, err
		}
		last = true
	}
	if last {
		if size >= 0 && int64(n) != size {
			return 0, fmt.Errorf("%w: got %d bytes, want %d", ErrSizeMismatch, n, size)
		}
		return int64(n), s.putObject(ctx, objectKey, buf[:n], contentType)
	}

	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:            aws.String(s.bucket),
		Key:               aws.String(objectKey),
		ContentType:       aws.String(contentType),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return 0, fmt.Errorf("creating multipart upload: %w", err)
	}
	uploadID := created.UploadId
	total, err := s.uploadParts(ctx, objectKey, uploadID, r, buf, n, last, size)
	if err == nil {
		_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket:          aws.String(s.bucket),
			Key:             aws.String(objectKey),
			UploadId:        uploadID,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: total.parts},
		})
		if err != nil {
			err = fmt.Errorf("completing multipart upload: %w", err)
		}
	}
	if err != nil {
		// Abort even when ctx is cancelled, so no parts linger in the bucket.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket:   aws.String(s.bucket),
			Key:      aws.String(objectKey),
			UploadId: uploadID,
		})
		return 0, err
	}
	return total.bytes, nil
}

type uploadedParts struct {
	parts []types.CompletedPart
	bytes int64
}

// uploadParts sends buf[:n] as part 1, then refills buf from r until the
// stream ends.
func (s *S3) uploadParts(ctx context.Context, objectKey string, uploadID *string, r io.Reader, buf []byte, n int, last bool, size int64) (uploadedParts, error) {
	var out uploadedParts
	for num := int32(1); ; num++ {
		if num > maxParts {
			return out, fmt.Errorf("more than %d parts of %d bytes", maxParts, len(buf))
		}
		if size >= 0 && out.bytes+int64(n) > size {
			return out, fmt.Errorf("%w: more than %d bytes", ErrSizeMismatch, size)
		}
		resp, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket:            aws.String(s.bucket),
			Key:               aws.String(objectKey),
			UploadId:          uploadID,
			PartNumber:        aws.Int32(num),
			Body:              bytes.NewReader(buf[:n]),
			ContentLength:     aws.Int64(int64(n)),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		})
		if err != nil {
			return out, fmt.Errorf("uploading part %d: %w", num, err)
		}
		out.parts = append(out.parts, types.CompletedPart{
			PartNumber:    aws.Int32(num),
			ETag:          resp.ETag,
			ChecksumCRC32: resp.ChecksumCRC32,
		})
		out.bytes += int64(n)
		if last {
			break
		}
		n, last, err = fillPart(r, buf)
		if err != nil {
			return out, err
		}
		if n == 0 { // the previous part ended exactly at EOF
			break
		}
	}
	if size >= 0 && out.bytes != size {
		return out, fmt.Errorf("%w: got %d bytes, want %d", ErrSizeMismatch, out.bytes, size)
	}
	return out, nil
}

// fillPart reads up to len(buf) bytes; last reports that r is exhausted.
func fillPart(r io.Reader, buf []byte) (n int, last bool, err error) {
	n, err = io.ReadFull(r, buf)
	switch {
	case err == nil:
		return n, false, nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return n, true, nil
	default:
		return n, false, fmt.Errorf("reading upload data: %w", err)
	}
}

// Get implements Store; the body streams from S3.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	ok, err := s.objectKey(key)
	if err != nil {
		return nil, Info{}, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(ok)})
	if err != nil {
		return nil, Info{}, s.wrap("get", key, err)
	}
	return out.Body, Info{
		Key:         key,
		Size:        aws.ToInt64(out.ContentLength),
		ContentType: contentTypeOrDefault(aws.ToString(out.ContentType)),
		ETag:        strings.Trim(aws.ToString(out.ETag), `"`),
		ModTime:     aws.ToTime(out.LastModified),
	}, nil
}

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	ok, err := s.objectKey(key)
	if err != nil {
		return Info{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(ok)})
	if err != nil {
		return Info{}, s.wrap("stat", key, err)
	}
	return Info{
		Key:         key,
		Size:        aws.ToInt64(out.ContentLength),
		ContentType: contentTypeOrDefault(aws.ToString(out.ContentType)),
		ETag:        strings.Trim(aws.ToString(out.ETag), `"`),
		ModTime:     aws.ToTime(out.LastModified),
	}, nil
}

// Copy implements Store with a server-side CopyObject (objects up to 5 GiB,
// far above UPLOAD_MAX_BYTES); the content type is copied along.
func (s *S3) Copy(ctx context.Context, src, dst string) error {
	srcKey, err := s.objectKey(src)
	if err != nil {
		return err
	}
	dstKey, err := s.objectKey(dst)
	if err != nil {
		return err
	}
	// Keys are restricted to URL-safe characters (ValidateKey), so the copy
	// source needs no escaping.
	_, err = s.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket:     aws.String(s.bucket),
		Key:        aws.String(dstKey),
		CopySource: aws.String(s.bucket + "/" + srcKey),
	})
	if err != nil {
		return s.wrap("copy", src+" to "+dst, err)
	}
	return nil
}

// Delete implements Store (S3 deletes are idempotent).
func (s *S3) Delete(ctx context.Context, key string) error {
	ok, err := s.objectKey(key)
	if err != nil {
		return err
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(ok)}); err != nil {
		return s.wrap("delete", key, err)
	}
	return nil
}

// PresignGet implements Store. The URL is signed locally (no request) for
// the configured endpoint, so that endpoint must be reachable by whoever
// fetches the URL.
func (s *S3) PresignGet(ctx context.Context, key string, ttl time.Duration, filename string) (string, bool, error) {
	ok, err := s.objectKey(key)
	if err != nil {
		return "", false, err
	}
	if ttl <= 0 || ttl > maxPresignTTL {
		return "", false, fmt.Errorf("blob: presign %q: ttl %s outside (0, %s]", key, ttl, maxPresignTTL)
	}
	in := &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(ok)}
	if filename != "" {
		if cd := mime.FormatMediaType("attachment", map[string]string{"filename": filename}); cd != "" {
			in.ResponseContentDisposition = aws.String(cd)
		}
	}
	req, err := s.presign.PresignGetObject(ctx, in, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", false, fmt.Errorf("blob: presign %q: %w", key, err)
	}
	return req.URL, true, nil
}

// Check implements Store with HeadBucket (bucket exists and credentials
// work).
func (s *S3) Check(ctx context.Context) error {
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)}); err != nil {
		return fmt.Errorf("blob: s3 bucket %q: %w", s.bucket, err)
	}
	return nil
}

// Close implements Store: it closes idle keep-alive connections.
func (s *S3) Close() error {
	s.idle.CloseIdleConnections()
	return nil
}

func (s *S3) wrap(op, key string, err error) error {
	if apiErr, ok := errors.AsType[smithy.APIError](err); ok {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return fmt.Errorf("blob: %s %q: %w", op, key, ErrNotFound)
		}
	}
	return fmt.Errorf("blob: %s %q: %w", op, key, err)
}
