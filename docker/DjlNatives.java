import ai.djl.engine.Engine;
import ai.djl.huggingface.tokenizers.jni.LibUtils;

/**
 * Run while an image builds (java DjlNatives.java, classpath = the app's libraries): makes DJL fetch or
 * extract libtorch, its JNI library and the tokenizers library into DJL_CACHE_DIR and load them once, so the
 * container starts offline (ai.djl.offline=true) from a read-only file system.
 */
class DjlNatives {
    public static void main(String[] args) {
        Engine pytorch = Engine.getEngine("PyTorch");
        LibUtils.checkStatus();
        System.out.println("DJL natives ready in " + System.getenv("DJL_CACHE_DIR") + ": PyTorch " + pytorch.getVersion());
    }
}
