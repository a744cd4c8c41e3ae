package com.loratool.cli;

import com.loratool.model.NativeRuntime;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;

/** {@code lora --version}: the build's version, DJL and PyTorch versions, the bundled native flavour. */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
        Properties p = new Properties();
        try (InputStream in = VersionProvider.class.getResourceAsStream("/version.properties")) {
            if (in != null) {
                p.load(in);
            }
        }
        String[] engine = NativeRuntime.engineVersions();
        String[] bundled = NativeRuntime.bundledNatives();
        return new String[] {
            "lora " + p.getProperty("version", "unknown"),
            "DJL " + engine[0] + ", PyTorch " + engine[1] + ", Java " + System.getProperty("java.version"),
            bundled[0] == null
                    ? "natives: none bundled (natives-local build: PYTORCH_LIBRARY_PATH or a download; see lora doctor)"
                    : "natives: " + bundled[0] + " (pytorch-native-" + bundled[0] + " " + bundled[1] + " bundled)"
        };
    }
}
