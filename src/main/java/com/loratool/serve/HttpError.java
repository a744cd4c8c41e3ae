package com.loratool.serve;

/**
 * A request the server answers with an error status and the protocol's {@code {"error": "..."}}
 * (one line, no stack trace): 4xx for the client's mistakes, 503 when the server is full or a
 * request ran past its time limit, 500 when the model failed.
 */
final class HttpError extends RuntimeException {
    private final int status;

    HttpError(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    static HttpError badRequest(String message) {
        return new HttpError(400, message);
    }

    int status() {
        return status;
    }
}
