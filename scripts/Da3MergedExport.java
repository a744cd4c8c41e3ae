/*
 * A Depth Anything 3 checkpoint's adapters merged into its base weights, in the official Hugging
 * Face layout (model.safetensors + config.json [+ model.yaml]): api.Export.mergedDa3, the library
 * path that `lora export --checkpoint <DA3 run> --format merged` takes once the resolver opens DA3
 * checkpoints to export (issue 26). scripts/da3-official-check.sh uses it only while the command
 * refuses.
 *
 * Run (after `mvn -q -DskipTests package`, which fills target/classes and target/lib):
 *   java -cp "target/classes:target/lib/*" scripts/Da3MergedExport.java CHECKPOINT OUT_DIR [ALPHA_SCALE]
 */

import com.loratool.api.Export;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.model.Da3Checkpoint;
import java.nio.file.Path;

public class Da3MergedExport {
    public static void main(String[] args) {
        if (args.length < 2 || args.length > 3) {
            System.err.println("usage: Da3MergedExport.java CHECKPOINT OUT_DIR [ALPHA_SCALE]");
            System.exit(2);
        }
        AdapterCheckpoint ck = AdapterCheckpoint.load(Path.of(args[0]));
        Path baseFile = ck.baseWeights(null); // checked against the SHA-256 recorded at training
        Da3Checkpoint base = Da3Checkpoint.read(baseFile);
        double alphaScale = args.length == 3 ? Double.parseDouble(args[2]) : 1;
        System.out.println(Export.mergedDa3(baseFile, base.config(), base.stateDict(), ck, Path.of(args[1]), alphaScale)
                .summary());
    }
}
