import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Depth for one image from an Open Inference Protocol server (lora serve, Triton, KServe), with the
 * JDK's HTTP client only: the encoded image goes as BYTES, the depth comes back as binary FP32.
 * Usage: java DepthClient.java http://127.0.0.1:8000 depth image.png [token-file]
 */
public class DepthClient {
    public static void main(String[] args) throws Exception {
        String base = args[0];
        String model = args[1];
        byte[] image = Files.readAllBytes(Path.of(args[2]));
        String token = args.length > 3 ? Files.readString(Path.of(args[3])).strip() : null;

        // the JSON header: one BYTES element sent as binary data, the output asked for as binary data
        String header = "{\"inputs\":[{\"name\":\"image_bytes\",\"shape\":[1],\"datatype\":\"BYTES\","
                + "\"parameters\":{\"binary_data_size\":" + (4 + image.length) + "}}],"
                + "\"outputs\":[{\"name\":\"depth\",\"parameters\":{\"binary_data\":true}}]}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(json);
        body.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(image.length).array());
        body.write(image);

        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + "/v2/models/" + model + "/infer"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/octet-stream")
                .header("Inference-Header-Content-Length", String.valueOf(json.length))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<byte[]> response = HttpClient.newHttpClient().send(request.build(),
                HttpResponse.BodyHandlers.ofByteArray());
        byte[] answer = response.body();
        if (response.statusCode() != 200) {
            throw new IllegalStateException("HTTP " + response.statusCode() + ": "
                    + new String(answer, StandardCharsets.UTF_8));
        }

        // the JSON header's length is in a response header; the depth's bytes follow it
        int headerLength = Integer.parseInt(response.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        String responseHeader = new String(answer, 0, headerLength, StandardCharsets.UTF_8);
        String shape = responseHeader.replaceAll(".*\"shape\":\\[([0-9,]+)\\].*", "$1");
        ByteBuffer data = ByteBuffer.wrap(answer, headerLength, answer.length - headerLength).order(ByteOrder.LITTLE_ENDIAN);
        float[] depth = new float[data.remaining() / 4];
        data.asFloatBuffer().get(depth);

        double sum = 0;
        for (float d : depth) {
            sum += d;
        }
        System.out.println("depth " + shape.replace(",", " x ") + ", mean " + sum / depth.length);
    }
}
