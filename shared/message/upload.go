package message

// What POST /v1/uploads takes: a file that a message of either channel then
// names as its Upload.
const (
	// UploadPrefix starts the key of every file uploaded through POST
	// /v1/uploads; a message's Upload must start with it.
	UploadPrefix = "uploads/"
	// MaxUploadSize is the largest file taken: the largest any channel
	// sends (Apple's attachments and WhatsApp's documents, 100 MB).
	MaxUploadSize = 100 << 20
	// MaxUploadName bounds a file's name, which becomes an Apple
	// attachment's name.
	MaxUploadName = 255
)
