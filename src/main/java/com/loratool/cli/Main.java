package com.loratool.cli;


import com.loratool.LoraException;
import com.loratool.io.Interrupts;
import com.loratool.io.NativeLibraries;
import com.loratool.model.kernels.LibtorchSwitches;
import java.io.PrintStream;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * The {@code lora} command: fine-tune, evaluate and benchmark Depth Anything V2 with LoRA.
 *
 * <p>Each subcommand is one class; register it in {@link #commandLine()}. Known errors
 * ({@link LoraException}, bad options) become one line on stderr and a non-zero exit code; the
 * stack trace appears only with {@code --verbose}.
 */
@Command(
        name = "lora",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "LoRA fine-tuning of Depth Anything V2 (monocular depth, relative and metric) on CPU or GPU.",
        footer = {"", "Run 'lora help <command>' for the options of one command."})
public final class Main implements Runnable {

    /** Exit code for a user error (bad file, bad option value, impossible configuration). */
    public static final int EXIT_USER_ERROR = 2;
    /** Exit code for an unexpected internal error. */
    public static final int EXIT_INTERNAL_ERROR = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The full command tree; tests call this to run commands in-process. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.addSubcommand("help", new CommandLine.HelpCommand());
        // Subcommands, in the order of the data's path.
        cl.addSubcommand("data", new DataCommand());
        cl.addSubcommand("info", new InfoCommand());
        cl.addSubcommand("predict", new PredictCommand());
        cl.addSubcommand("train", new TrainCommand());
        cl.addSubcommand("eval", new EvalCommand());
        cl.addSubcommand("eval-completion", new CompletionEvalCommand());
        cl.addSubcommand("export", new ExportCommand());
        cl.addSubcommand("import", new ImportCommand());
        cl.addSubcommand("serve", new ServeCommand());
        cl.addSubcommand("benchmark", new BenchmarkCommand());
        cl.addSubcommand("sweep", new SweepCommand());
        cl.addSubcommand("doctor", new DoctorCommand());
        cl.addSubcommand("generate-completion", new AutoComplete.GenerateCompletion());
        cl.getSubcommands().get("generate-completion").getCommandSpec().usageMessage().hidden(true);
        cl.setExecutionExceptionHandler(new ErrorHandler());
        // an Error thrown by a command (a native library's ExceptionInInitializerError, OutOfMemoryError)
        // goes to the same handler, as one line, instead of out of execute() as a stack trace
        cl.setExecutionStrategy(parsed -> {
            LibtorchSwitches.verboseNativeLog(ErrorHandler.verbose(parsed)); // libtorch's own log: errors only unless --verbose
            try {
                return new CommandLine.RunLast().execute(parsed);
            } catch (Error e) {
                throw new CommandLine.ExecutionException(cl, e.toString(), e);
            }
        });
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }

    public static int execute(String... args) {
        return commandLine().execute(args);
    }

    /** The exit code once {@code out} is flushed: a failed write to it (e.g. {@code > /dev/full}) is an error. */
    static int finish(int code, PrintStream out, PrintStream err) {
        if (out.checkError()) {
            err.println("error: cannot write to standard output (disk full or closed?)");
            return code == 0 ? EXIT_USER_ERROR : code;
        }
        return code;
    }

    public static void main(String[] args) {
        Interrupts.install();
        NativeLibraries.directJLine();
        System.exit(finish(execute(args), System.out, System.err));
    }
}
