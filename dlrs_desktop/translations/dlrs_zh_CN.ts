<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>BarChart</name>
    <message>
        <source>Each bar: that network&apos;s probability; dashed tick: its own threshold; the box on Fusion: the range when the contour moves by the sensitivity offsets.</source>
        <translation>每个条形：该网络的概率；虚线刻度：其自身阈值；“融合”上的方框：轮廓按敏感性偏移量移动时的取值范围。</translation>
    </message>
</context>
<context>
    <name>CompareView</name>
    <message>
        <source>Compare with:</source>
        <translation>对比对象：</translation>
    </message>
    <message>
        <source>Mark as orthogonal pair</source>
        <translation>标记为正交切面对</translation>
    </message>
    <message>
        <source>The two images show the same lesion in two planes at one exam</source>
        <translation>两幅图像为同一次检查中同一病灶的两个正交切面</translation>
    </message>
    <message>
        <source>Open a folder with another exam of this patient to compare</source>
        <translation>请打开包含该患者另一次检查的文件夹以进行对比</translation>
    </message>
    <message>
        <source>exam {n}</source>
        <translation>第 {n} 次检查</translation>
    </message>
    <message>
        <source>{name} (same exam: {label})</source>
        <translation>{name}（同一次检查：{label}）</translation>
    </message>
    <message>
        <source>{name} ({label})</source>
        <translation>{name}（{label}）</translation>
    </message>
    <message>
        <source>No other image of this patient in the worklist.</source>
        <translation>工作列表中没有该患者的其他图像。</translation>
    </message>
    <message>
        <source>Cannot open {name}: {why}</source>
        <translation>无法打开 {name}：{why}</translation>
    </message>
    <message>
        <source>{name}: contour as saved</source>
        <translation>{name}：已保存的轮廓</translation>
    </message>
    <message>
        <source>{name}: no contour saved</source>
        <translation>{name}：未保存轮廓</translation>
    </message>
</context>
<context>
    <name>DicomController</name>
    <message>
        <source>Export to DICOM</source>
        <translation>导出为 DICOM</translation>
    </message>
    <message>
        <source>Cannot export to DICOM</source>
        <translation>无法导出为 DICOM</translation>
    </message>
    <message>
        <source>Wrote {count} DICOM files ({what}) to {folder}.</source>
        <translation>已将 {count} 个 DICOM 文件（{what}）写入 {folder}。</translation>
    </message>
    <message>
        <source>No PACS is configured: set its AE title, host and port in Preferences.</source>
        <translation>尚未配置 PACS：请在首选项中设置其 AE 名称、主机和端口。</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Cannot send results</source>
        <translation>无法发送结果</translation>
    </message>
    <message>
        <source>Sending {count} objects to {node}…</source>
        <translation>正在向 {node} 发送 {count} 个对象…</translation>
    </message>
    <message>
        <source>{bad} of {total} objects were not stored on {node}:
{lines}</source>
        <translation>{total} 个对象中有 {bad} 个未能存储到 {node}：
{lines}</translation>
    </message>
    <message>
        <source>Send results</source>
        <translation>发送结果</translation>
    </message>
    <message>
        <source>Sent {count} objects ({what}) to {node}.</source>
        <translation>已向 {node} 发送 {count} 个对象（{what}）。</translation>
    </message>
    <message>
        <source>Send results to PACS</source>
        <translation>将结果发送到 PACS</translation>
    </message>
    <message>
        <source>Stopped receiving from the scanner.</source>
        <translation>已停止接收扫描仪数据。</translation>
    </message>
    <message>
        <source>Open a folder as worklist first: received images are filed there.</source>
        <translation>请先将文件夹作为工作列表打开：接收到的图像将归档到该文件夹。</translation>
    </message>
    <message>
        <source>Receive</source>
        <translation>接收</translation>
    </message>
    <message>
        <source>Receive from scanner</source>
        <translation>从扫描仪接收</translation>
    </message>
    <message>
        <source>Receiving from the scanner as {aet} on port {port} into {folder}.</source>
        <translation>正在以 {aet} 身份在端口 {port} 接收扫描仪数据，保存到 {folder}。</translation>
    </message>
    <message>
        <source>Receive: {0}</source>
        <translation>接收：{0}</translation>
    </message>
    <message>
        <source>Received {name} from the scanner.</source>
        <translation>已从扫描仪接收 {name}。</translation>
    </message>
</context>
<context>
    <name>FileController</name>
    <message>
        <source>Images (*.dcm *.dicom *.png *.jpg *.jpeg *.tif *.tiff *.bmp);;All files (*)</source>
        <translation>图像 (*.dcm *.dicom *.png *.jpg *.jpeg *.tif *.tiff *.bmp);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Open ultrasound image</source>
        <translation>打开超声图像</translation>
    </message>
    <message>
        <source>Open folder as worklist</source>
        <translation>将文件夹作为工作列表打开</translation>
    </message>
    <message>
        <source>&apos;{path}&apos; no longer exists; removed from Open Recent.</source>
        <translation>“{path}”已不存在；已从“最近打开”中移除。</translation>
    </message>
    <message>
        <source>The bundled sample is missing ({path}). Reinstall the application.</source>
        <translation>随附的示例图像缺失（{path}）。请重新安装本程序。</translation>
    </message>
    <message>
        <source>Discard your changes to the demo case and start again from the bundled contour?</source>
        <translation>是否放弃对演示病例的修改，并从随附的轮廓重新开始？</translation>
    </message>
    <message>
        <source>Opening {name}…</source>
        <translation>正在打开 {name}…</translation>
    </message>
    <message>
        <source>Cannot open image</source>
        <translation>无法打开图像</translation>
    </message>
    <message>
        <source>Cannot open &apos;{name}&apos;: {error}</source>
        <translation>无法打开“{name}”：{error}</translation>
    </message>
    <message>
        <source>No image in this folder can be opened; each row of the worklist says why.</source>
        <translation>此文件夹中没有可打开的图像；工作列表的每一行都说明了原因。</translation>
    </message>
    <message>
        <source>{name}: the bundled case with its bundled contour (File → Reset demo).</source>
        <translation>{name}：随附病例及其随附轮廓（文件 → 重置演示）。</translation>
    </message>
    <message>
        <source>Annotation copies</source>
        <translation>标注副本</translation>
    </message>
    <message>
        <source>The saved annotation could not be restored: {error}</source>
        <translation>无法恢复已保存的标注：{error}</translation>
    </message>
    <message>
        <source>contour</source>
        <translation>轮廓</translation>
    </message>
    <message>
        <source>calibration</source>
        <translation>校准</translation>
    </message>
    <message>
        <source>result</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>review</source>
        <translation>审阅</translation>
    </message>
    <message>
        <source>, </source>
        <translation>、</translation>
    </message>
    <message>
        <source>annotation</source>
        <translation>标注</translation>
    </message>
    <message>
        <source>Restored the saved {what} for this image.</source>
        <translation>已恢复此图像保存的{what}。</translation>
    </message>
    <message>
        <source>Cannot load contour</source>
        <translation>无法加载轮廓</translation>
    </message>
    <message>
        <source>Load contour</source>
        <translation>加载轮廓</translation>
    </message>
    <message>
        <source>Import contour</source>
        <translation>导入轮廓</translation>
    </message>
    <message>
        <source>Contour (*.json *.png *.dcm);;All files (*)</source>
        <translation>轮廓 (*.json *.png *.dcm);;所有文件 (*)</translation>
    </message>
    <message>
        <source>No further image in the worklist.</source>
        <translation>工作列表中没有更多图像。</translation>
    </message>
    <message>
        <source>Backup kept</source>
        <translation>已保留备份</translation>
    </message>
    <message>
        <source>The annotation could not be saved.</source>
        <translation>无法保存标注。</translation>
    </message>
    <message>
        <source>{problem}

Your work stays open in this window. Saving is tried again at every change and when you close; the title shows * while changes are unsaved.</source>
        <translation>{problem}

您的工作仍在此窗口中打开。每次更改及关闭时都会再次尝试保存；有未保存的更改时，标题中显示 *。</translation>
    </message>
    <message>
        <source>Cannot save</source>
        <translation>无法保存</translation>
    </message>
    <message>
        <source>Not saved: {problem}</source>
        <translation>未保存：{problem}</translation>
    </message>
    <message>
        <source>{problems} Saved in the other location.</source>
        <translation>{problems} 已保存到另一位置。</translation>
    </message>
    <message>
        <source>Nothing to save: no image is open.</source>
        <translation>无需保存：未打开图像。</translation>
    </message>
    <message>
        <source>this image</source>
        <translation>此图像</translation>
    </message>
    <message>
        <source>Saved the annotation of {name}.</source>
        <translation>已保存 {name} 的标注。</translation>
    </message>
    <message>
        <source>{name}: everything is already saved.</source>
        <translation>{name}：所有内容均已保存。</translation>
    </message>
    <message>
        <source>Your latest changes could not be saved. Try saving again, quit without them, or cancel?</source>
        <translation>您最近的更改未能保存。要再次尝试保存、不保存直接退出，还是取消？</translation>
    </message>
</context>
<context>
    <name>KnownScale</name>
    <message>
        <source>Open an image first.</source>
        <translation>请先打开图像。</translation>
    </message>
    <message>
        <source>Known scale of this image, in millimetres per pixel:</source>
        <translation>该图像的已知比例尺（毫米/像素）：</translation>
    </message>
    <message>
        <source>Type a known scale</source>
        <translation>输入已知比例尺</translation>
    </message>
    <message>
        <source>Known scale</source>
        <translation>已知比例尺</translation>
    </message>
    <message>
        <source>Calibrated: {label}</source>
        <translation>已校准：{label}</translation>
    </message>
    <message>
        <source>Type a known scale (mm/px)…</source>
        <translation>输入已知比例尺（mm/px）…</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Worklist</source>
        <translation>工作列表</translation>
    </message>
    <message>
        <source>Model: loading…</source>
        <translation>模型：正在加载…</translation>
    </message>
    <message>
        <source>Measurements and result</source>
        <translation>测量与结果</translation>
    </message>
    <message>
        <source>x {x}, y {y} px · gray {value}</source>
        <translation>x {x}，y {y} 像素 · 灰度 {value}</translation>
    </message>
    <message>
        <source>not loaded</source>
        <translation>未加载</translation>
    </message>
</context>
<context>
    <name>PacsFields</name>
    <message>
        <source>C-GET (nothing to register in the PACS)</source>
        <translation>C-GET（无需在 PACS 中登记）</translation>
    </message>
    <message>
        <source>C-MOVE to our receive port</source>
        <translation>C-MOVE 到本机接收端口</translation>
    </message>
    <message>
        <source>PACS AE title:</source>
        <translation>PACS AE 名称：</translation>
    </message>
    <message>
        <source>PACS host:</source>
        <translation>PACS 主机：</translation>
    </message>
    <message>
        <source>PACS port:</source>
        <translation>PACS 端口：</translation>
    </message>
    <message>
        <source>Our AE title:</source>
        <translation>本机 AE 名称：</translation>
    </message>
    <message>
        <source>Network timeout (s):</source>
        <translation>网络超时（秒）：</translation>
    </message>
    <message>
        <source>Receive port (scanner, C-MOVE):</source>
        <translation>接收端口（扫描仪，C-MOVE）：</translation>
    </message>
    <message>
        <source>Receive on address:</source>
        <translation>接收地址：</translation>
    </message>
    <message>
        <source>Allowed AE titles (scanners):</source>
        <translation>允许的 AE 名称（扫描仪）：</translation>
    </message>
    <message>
        <source>empty: no PACS, no network use</source>
        <translation>留空：不使用 PACS，不进行网络通信</translation>
    </message>
    <message>
        <source>127.0.0.1: this computer only</source>
        <translation>127.0.0.1：仅限本机</translation>
    </message>
    <message>
        <source>e.g. SCANNER1 SCANNER2; empty: any, on 127.0.0.1 only</source>
        <translation>例如 AE1 AE2；留空：任意，但仅限 127.0.0.1</translation>
    </message>
    <message>
        <source>Calling AE titles that may send images to this workstation (space or comma separated). Any other is rejected. Needed when receiving on an address other than 127.0.0.1.</source>
        <translation>允许向本工作站发送图像的主叫 AE 名称（以空格或逗号分隔），其他一律拒绝。在 127.0.0.1 以外的地址上接收时必须填写。</translation>
    </message>
    <message>
        <source>Retrieve with:</source>
        <translation>检索方式：</translation>
    </message>
</context>
<context>
    <name>PatientBanner</name>
    <message>
        <source>{name} · ID {id} · born {birth} · exam {date} · accession {accession}</source>
        <translation>{name} · ID {id} · 出生日期 {birth} · 检查日期 {date} · 检查号 {accession}</translation>
    </message>
    <message>
        <source>{fields} · {label}</source>
        <translation>{fields} · {label}</translation>
    </message>
</context>
<context>
    <name>PredictionController</name>
    <message>
        <source>This image has no trustworthy millimetre calibration, so the rings cannot be measured and no prediction is made. Calibrate it with the Calibrate tool (K): drag along the depth ruler and type its length.</source>
        <translation>该图像没有可信的毫米校准，因此无法测量环，也不会进行预测。请用“校准”工具（K）校准：沿深度标尺拖动并输入其长度。</translation>
    </message>
    <message>
        <source>Model: loading…</source>
        <translation>模型：正在加载…</translation>
    </message>
    <message>
        <source>Loading the model in the background…</source>
        <translation>正在后台加载模型…</translation>
    </message>
    <message>
        <source>This model bundle is not signed by a key you trust:
{0}

{1}

Use it anyway? Every result, report and export will then say &quot;unsigned model&quot;.</source>
        <translation>此模型包未经您信任的密钥签名：
{0}

{1}

仍要使用吗？此后每个结果、报告和导出都会注明“未签名模型”。</translation>
    </message>
    <message>
        <source>Unsigned model</source>
        <translation>未签名模型</translation>
    </message>
    <message>
        <source>you chose not to use an unsigned model</source>
        <translation>您选择不使用未签名模型</translation>
    </message>
    <message>
        <source>Model: {name} {version} · {device}</source>
        <translation>模型：{name} {version} · {device}</translation>
    </message>
    <message>
        <source>Model ready ({device}).</source>
        <translation>模型就绪（{device}）。</translation>
    </message>
    <message>
        <source>Re-computing the saved prediction…</source>
        <translation>正在重新计算已保存的预测…</translation>
    </message>
    <message>
        <source>Model: not available</source>
        <translation>模型：不可用</translation>
    </message>
    <message>
        <source>Model not available: {reason}</source>
        <translation>模型不可用：{reason}</translation>
    </message>
    <message>
        <source>Open an image first.</source>
        <translation>请先打开图像。</translation>
    </message>
    <message>
        <source>Draw the tumour contour first (Polygon: P, Freehand: F).</source>
        <translation>请先勾画肿瘤轮廓（多边形：P，手绘：F）。</translation>
    </message>
    <message>
        <source>Prediction not possible</source>
        <translation>无法预测</translation>
    </message>
    <message>
        <source>Not calibrated</source>
        <translation>未校准</translation>
    </message>
    <message>
        <source>The model is still loading; try again in a moment.</source>
        <translation>模型仍在加载，请稍后再试。</translation>
    </message>
    <message>
        <source>Predicting (with contour sensitivity)…</source>
        <translation>正在预测（含轮廓敏感性分析）…</translation>
    </message>
    <message>
        <source>A prediction for an earlier contour finished and was discarded.</source>
        <translation>针对先前轮廓的预测已完成，结果已丢弃。</translation>
    </message>
    <message>
        <source>Probability in {seconds} s: {result} · contour sensitivity: computing…</source>
        <translation>概率用时 {seconds} 秒：{result} · 轮廓敏感性：正在计算…</translation>
    </message>
    <message>
        <source>Prediction done in {seconds} s (probability after {first} s, contour sensitivity {second} s): {result}</source>
        <translation>预测完成，用时 {seconds} 秒（概率 {first} 秒，轮廓敏感性 {second} 秒）：{result}</translation>
    </message>
    <message>
        <source>The contour changed: its contour sensitivity was not computed.</source>
        <translation>轮廓已更改：其轮廓敏感性未计算。</translation>
    </message>
    <message>
        <source>{probability_of} {value}</source>
        <translation>{probability_of} {value}</translation>
    </message>
    <message>
        <source>{probability_of} {value} ({category})</source>
        <translation>{probability_of} {value}（{category}）</translation>
    </message>
    <message>
        <source>The result saved in the annotation file ({saved}) differs from the one the model computes now ({now}). The re-computed result is shown.</source>
        <translation>标注文件中保存的结果（{saved}）与模型当前计算的结果（{now}）不同。显示的是重新计算的结果。</translation>
    </message>
    <message>
        <source>Saved result not confirmed</source>
        <translation>已保存的结果未获确认</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>The audit log could not be written ({reason}); this prediction is not logged.</source>
        <translation>无法写入审计日志（{reason}）；本次预测未被记录。</translation>
    </message>
    <message>
        <source>Audit log</source>
        <translation>审计日志</translation>
    </message>
</context>
<context>
    <name>PreferencesDialog</name>
    <message>
        <source>Preferences</source>
        <translation>首选项</translation>
    </message>
    <message>
        <source>Auto (GPU if present)</source>
        <translation>自动（如有 GPU 则使用 GPU）</translation>
    </message>
    <message>
        <source>GPU (CUDA)</source>
        <translation>GPU（CUDA）</translation>
    </message>
    <message>
        <source>Model device:</source>
        <translation>模型运行设备：</translation>
    </message>
    <message>
        <source>Auto (int8 where this CPU runs it fast)</source>
        <translation>自动（本机 CPU 运行 int8 更快时使用 int8）</translation>
    </message>
    <message>
        <source>Float32 always</source>
        <translation>始终使用 float32</translation>
    </message>
    <message>
        <source>Model precision:</source>
        <translation>模型数值类型：</translation>
    </message>
    <message>
        <source>a GPU is available</source>
        <translation>GPU 可用</translation>
    </message>
    <message>
        <source>In use now: {device}; {gpu}. A failing GPU falls back to the CPU.</source>
        <translation>当前使用：{device}；{gpu}。GPU 出错时自动改用 CPU。</translation>
    </message>
    <message>
        <source>System default</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Language:</source>
        <translation>界面语言：</translation>
    </message>
    <message>
        <source>Reviewer name:</source>
        <translation>审阅者姓名：</translation>
    </message>
    <message>
        <source>Institution (PDF report):</source>
        <translation>机构（PDF 报告）：</translation>
    </message>
    <message>
        <source>Default image folder:</source>
        <translation>默认图像文件夹：</translation>
    </message>
    <message>
        <source>Default export folder:</source>
        <translation>默认导出文件夹：</translation>
    </message>
    <message>
        <source>Public key files (separated by ;) whose signed model bundles are trusted, besides the release key. A bundle no trusted key signed is used only if you allow it.</source>
        <translation>公钥文件（以 ; 分隔）：除发布密钥外，由这些密钥签名的模型包也受信任。未经受信任的密钥签名的模型包，只有在您允许时才会使用。</translation>
    </message>
    <message>
        <source>Trusted model keys:</source>
        <translation>受信任的模型密钥：</translation>
    </message>
    <message>
        <source>Show {region}</source>
        <translation>显示 {region}</translation>
    </message>
    <message>
        <source>The new language is used from the next start of DLRS Desktop.</source>
        <translation>新的界面语言将在下次启动 DLRS Desktop 时生效。</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>界面语言</translation>
    </message>
</context>
<context>
    <name>QAbstractFileIconProvider</name>
    <message>
        <source>Folder</source>
        <translation>文件夹</translation>
    </message>
</context>
<context>
    <name>QFileDialog</name>
    <message>
        <source>&amp;Look in:</source>
        <extracomment>Languages offered in Preferences: code → the language&apos;s own name (never translated). Qt&apos;s own strings that qtbase_zh_CN.qm (older than the Qt in PySide6 6.11) lacks: our catalogue holds them in Qt&apos;s context, so the non-native file dialog is Chinese throughout.</extracomment>
        <translation>查找范围(&amp;L)：</translation>
    </message>
    <message>
        <source>Files of &amp;type:</source>
        <translation>文件类型(&amp;T)：</translation>
    </message>
</context>
<context>
    <name>ReadingGuide</name>
    <message>
        <source>How to read this</source>
        <translation>如何解读此结果</translation>
    </message>
</context>
<context>
    <name>Report</name>
    <message>
        <source>Reviewer: {name}</source>
        <translation>审阅者：{name}</translation>
    </message>
    <message>
        <source>Signature: {line}    Date: {date}</source>
        <translation>签名：{line}    日期：{date}</translation>
    </message>
</context>
<context>
    <name>ReportOptionsDialog</name>
    <message>
        <source>Export PDF report</source>
        <translation>导出 PDF 报告</translation>
    </message>
    <message>
        <source>Include patient identifiers</source>
        <translation>包含患者身份信息</translation>
    </message>
    <message>
        <source>Off: the report names the image only by a short hash (nothing identifies the patient).</source>
        <translation>关闭时：报告仅以短哈希值标识图像（不含任何可识别患者的信息）。</translation>
    </message>
    <message>
        <source>{label}:</source>
        <translation>{label}：</translation>
    </message>
    <message>
        <source>Include patient identifiers?</source>
        <translation>是否包含患者身份信息？</translation>
    </message>
</context>
<context>
    <name>ResultHelp</name>
    <message>
        <source>Big number</source>
        <translation>大号数字</translation>
    </message>
    <message>
        <source>the model&apos;s probability (0 to 1) of early response: the tumour shrinking well after two cycles of neoadjuvant chemotherapy. 1 = certain response, 0 = certain non-response.</source>
        <translation>模型给出的早期反应概率（0 到 1）：即新辅助化疗两个周期后肿瘤明显缩小。1 = 肯定有反应，0 = 肯定无反应。</translation>
    </message>
    <message>
        <source>the model&apos;s probability (0 to 1) of {short_name} ({name}). 1 = certainly {positive_class}, 0 = certainly {negative_class}.</source>
        <translation>模型给出的{short_name}概率（0 到 1）：{name}。1 = 肯定{positive_class}，0 = 肯定{negative_class}。</translation>
    </message>
    <message>
        <source>Line under it</source>
        <translation>数字下方的一行</translation>
    </message>
    <message>
        <source>the class the probability falls in, compared with the model&apos;s decision threshold (shown with two decimals). It says &apos;uncertain&apos; when moving the contour a little puts the probability on both sides of the threshold; then read the probability as borderline.</source>
        <translation>将概率与模型的决策阈值（显示两位小数）比较后所属的类别。若轮廓稍作移动就会使概率落在阈值两侧，则显示“不确定”；此时应将该概率视为临界值。</translation>
    </message>
    <message>
        <source>Prediction set</source>
        <translation>预测集</translation>
    </message>
    <message>
        <source>the classes the model cannot rule out at the stated coverage (e.g. 90 %): one class, or &apos;either (uncertain)&apos;. The coverage is calibrated on the model&apos;s validation images and, for a model trained on several hospitals, on each hospital left out of its training; on a new hospital&apos;s images it can still be lower.</source>
        <translation>在所示覆盖率（如 90 %）下模型无法排除的类别：一个类别，或“两者皆有可能（不确定）”。覆盖率在模型的验证图像上校准；对于用多家医院数据训练的模型，还在训练时留出的每家医院上校准；在新医院的图像上，实际覆盖率仍可能更低。</translation>
    </message>
    <message>
        <source>Training domain</source>
        <translation>训练范围</translation>
    </message>
    <message>
        <source>whether the image resembles those the model was trained on: inside; unusual (the number is shown with a caution); outside (no class and no number, only the reason). From the image alone it does not tell another organ from the one the model was trained on; a DICOM whose header names another body part or modality is outside. Use a model only on that organ.</source>
        <translation>图像是否与模型的训练图像相似：范围内；不常见（显示数值并附注意）；超出范围（不显示分类和数值，只显示原因）。仅凭图像它不能区分其他器官与模型训练所用的器官；DICOM 头信息标明其他检查部位或模态的图像为超出范围。模型只能用于该器官。</translation>
    </message>
    <message>
        <source>Bars</source>
        <translation>条形图</translation>
    </message>
    <message>
        <source>one bar per network: the tumour itself and the 3, 5 and 10 mm rings around it. The dashed tick on each bar is that network&apos;s own threshold.</source>
        <translation>每个网络对应一个条形：肿瘤本身，以及其周围 3、5 和 10 mm 的瘤周环。每个条形上的虚线刻度是该网络自身的阈值。</translation>
    </message>
    <message>
        <source>one bar, for the tumour&apos;s network (this model has no rings); the dashed tick is its own threshold.</source>
        <translation>只有一个条形，对应肿瘤本身的网络（此模型没有瘤周环）；虚线刻度是该网络自身的阈值。</translation>
    </message>
    <message>
        <source>one bar per network: the tumour itself and each ring around it ({radii} mm). The dashed tick on each bar is that network&apos;s own threshold.</source>
        <translation>每个网络对应一个条形：肿瘤本身，以及其周围的各个瘤周环（{radii} mm）。每个条形上的虚线刻度是该网络自身的阈值。</translation>
    </message>
    <message>
        <source>Fusion</source>
        <translation>融合</translation>
    </message>
    <message>
        <source>the final answer, combining all networks. The box on the Fusion bar is the range of the probability when the contour is moved in and out by the sensitivity offsets.</source>
        <translation>综合所有网络得出的最终结果。“融合”条形上的方框表示轮廓按敏感性偏移量向内、向外移动时概率的取值范围。</translation>
    </message>
    <message>
        <source>Weights in the fusion</source>
        <translation>融合权重</translation>
    </message>
    <message>
        <source>how much each network counts in the final answer; a weight of 0 means that network is not used.</source>
        <translation>每个网络在最终结果中所占的比重；权重为 0 表示未使用该网络。</translation>
    </message>
    <message>
        <source>STALE / SAVED — NOT VERIFIED</source>
        <translation>已过时 / 已保存 — 未验证</translation>
    </message>
    <message>
        <source>the result no longer describes the contour shown (it was edited, or the result was read from a file): press Predict.</source>
        <translation>该结果已不再对应当前显示的轮廓（轮廓已被编辑，或结果读取自文件）：请点击“预测”。</translation>
    </message>
    <message>
        <source>Explanation map</source>
        <translation>解释图</translation>
    </message>
    <message>
        <source>colours the image where a network found evidence for (orange) or against (blue) {outcome}.</source>
        <translation>在图像上着色，标出网络找到支持（橙色）或不支持（蓝色）{outcome}的证据的区域。</translation>
    </message>
    <message>
        <source>Contour review</source>
        <translation>轮廓审阅</translation>
    </message>
    <message>
        <source>&apos;reviewed&apos; once a person checked the contour (Ctrl+R); any edit returns it to draft.</source>
        <translation>有人检查过轮廓（Ctrl+R）后显示“已审阅”；任何编辑都会使其恢复为草稿。</translation>
    </message>
    <message>
        <source>&lt;b&gt;{element}&lt;/b&gt;: {meaning}</source>
        <translation>&lt;b&gt;{element}&lt;/b&gt;：{meaning}</translation>
    </message>
    <message>
        <source>Reading the result</source>
        <translation>解读结果</translation>
    </message>
    <message>
        <source>Research use only: a probability from one image, not a diagnosis.</source>
        <translation>仅供研究使用：基于单幅图像得出的概率，并非诊断结论。</translation>
    </message>
    <message>
        <source>• {element}: {meaning}</source>
        <translation>• {element}：{meaning}</translation>
    </message>
</context>
<context>
    <name>ResultPanel</name>
    <message>
        <source>outside the model&apos;s training domain: no class is shown</source>
        <translation>超出模型训练范围：不显示分类</translation>
    </message>
    <message>
        <source>STALE — the contour, calibration or frame changed after this prediction. Press Predict.</source>
        <translation>已过时 — 此预测之后轮廓、校准或帧已更改。请点击“预测”。</translation>
    </message>
    <message>
        <source>STALE — computed with another model ({model}); the model loaded now has not assessed this contour. Press Predict.</source>
        <translation>已过时 — 由另一个模型（{model}）计算；当前加载的模型尚未评估此轮廓。请点击“预测”。</translation>
    </message>
    <message>
        <source>saved — not verified</source>
        <translation>已保存 — 未验证</translation>
    </message>
    <message>
        <source>SAVED — NOT VERIFIED: this result was read from the annotation file, not computed on this computer. Press Predict to re-compute it for the contour shown.</source>
        <translation>已保存 — 未验证：此结果读取自标注文件，并非在本机计算。请点击“预测”为当前显示的轮廓重新计算。</translation>
    </message>
    <message>
        <source>Predict  (Ctrl+Enter)</source>
        <translation>预测  (Ctrl+Enter)</translation>
    </message>
    <message>
        <source>Loading model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <source>Explanation map:</source>
        <translation>解释图：</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Research use only · the model&apos;s own notice appears once it is loaded</source>
        <translation>仅供研究使用 · 模型加载后显示其自身声明</translation>
    </message>
    <message>
        <source>&lt;span style=&apos;color:#e69f00&apos;&gt;■&lt;/span&gt; for {outcome} · &lt;span style=&apos;color:#0072b2&apos;&gt;■&lt;/span&gt; against · stronger = more opaque</source>
        <translation>&lt;span style=&apos;color:#e69f00&apos;&gt;■&lt;/span&gt; 支持{outcome} · &lt;span style=&apos;color:#0072b2&apos;&gt;■&lt;/span&gt; 反对 · 越不透明越强</translation>
    </message>
    <message>
        <source>No prediction yet: press Predict</source>
        <translation>尚无预测：请点击“预测”</translation>
    </message>
    <message>
        <source>saved: {headline}</source>
        <translation>已保存：{headline}</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
</context>
<context>
    <name>ReviewLine</name>
    <message>
        <source>Contour: reviewed by {who} at {when}</source>
        <translation>轮廓：已由 {who} 于 {when} 审阅</translation>
    </message>
    <message>
        <source>Contour: draft (not reviewed yet; Ctrl+R marks it reviewed)</source>
        <translation>轮廓：草稿（尚未审阅；按 Ctrl+R 标记为已审阅）</translation>
    </message>
</context>
<context>
    <name>TimePoints</name>
    <message>
        <source>Show patient &amp;identifiers</source>
        <translation>显示患者身份信息(&amp;I)</translation>
    </message>
    <message>
        <source>Compare side by side</source>
        <translation>并排对比</translation>
    </message>
    <message>
        <source>Label this exam&apos;s time point…</source>
        <translation>标注本次检查的时间点…</translation>
    </message>
    <message>
        <source>Assign patient and exam date…</source>
        <translation>指定患者和检查日期…</translation>
    </message>
    <message>
        <source>Cannot open {name}: {why}</source>
        <translation>无法打开 {name}：{why}</translation>
    </message>
    <message>
        <source>Open an image first.</source>
        <translation>请先打开图像。</translation>
    </message>
    <message>
        <source>Time point of this exam (e.g. baseline, after cycle 2):</source>
        <translation>本次检查的时间点（例如 基线、第2周期后）：</translation>
    </message>
    <message>
        <source>Label exam</source>
        <translation>标注检查时间点</translation>
    </message>
    <message>
        <source>Patient (a study code, not a name):</source>
        <translation>患者（研究编号，而非姓名）：</translation>
    </message>
    <message>
        <source>Exam date (YYYY-MM-DD):</source>
        <translation>检查日期（年-月-日，例如 2024-03-15）：</translation>
    </message>
    <message>
        <source>{date} is not a date of the form YYYY-MM-DD.</source>
        <translation>{date} 不是“年-月-日”格式的日期（例如 2024-03-15）。</translation>
    </message>
    <message>
        <source>Open an image and choose a second one to compare first.</source>
        <translation>请先打开一幅图像，并选择另一幅图像进行对比。</translation>
    </message>
    <message>
        <source>{a} and {b} are marked as the orthogonal pair of this exam.</source>
        <translation>{a} 和 {b} 已标记为本次检查的正交切面对。</translation>
    </message>
</context>
<context>
    <name>Timeline</name>
    <message>
        <source>Exam date</source>
        <translation>检查日期</translation>
    </message>
    <message>
        <source>Time point</source>
        <translation>时间点</translation>
    </message>
    <message>
        <source>Longest diameter</source>
        <translation>最长径</translation>
    </message>
    <message>
        <source>Change</source>
        <translation>变化</translation>
    </message>
    <message>
        <source>Size category</source>
        <translation>大小类别</translation>
    </message>
    <message>
        <source>Probability</source>
        <translation>概率</translation>
    </message>
    <message>
        <source>baseline</source>
        <translation>基线</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>not measurable</source>
        <translation>不可测量</translation>
    </message>
    <message>
        <source>partial response (size criteria)</source>
        <translation>部分缓解（按大小标准）</translation>
    </message>
    <message>
        <source>progressive disease (size criteria)</source>
        <translation>疾病进展（按大小标准）</translation>
    </message>
    <message>
        <source>stable disease (size criteria)</source>
        <translation>疾病稳定（按大小标准）</translation>
    </message>
    <message>
        <source>complete response (size criteria)</source>
        <translation>完全缓解（按大小标准）</translation>
    </message>
    <message>
        <source>Lesion timeline (size by RECIST 1.1 size criteria, not a diagnosis)</source>
        <translation>病灶时间线（按 RECIST 1.1 大小标准评估大小，并非诊断结论）</translation>
    </message>
</context>
<context>
    <name>TimelineDock</name>
    <message>
        <source>Lesion timeline</source>
        <translation>病灶时间线</translation>
    </message>
    <message>
        <source>No comparison yet: a baseline and a follow-up exam of the lesion.</source>
        <translation>尚无对比：需要该病灶的一次基线检查和一次随访检查。</translation>
    </message>
    <message>
        <source>Size change: the longest diameter against baseline, by RECIST 1.1 size criteria (partial response at -30 % or less; progression at +20 % and at least 5 mm more). A measurement rule, not a diagnosis; the probability is the model&apos;s, at that exam.</source>
        <translation>大小变化：按 RECIST 1.1 大小标准将最长径与基线比较（缩小 30 % 或以上为部分缓解；增大 20 % 且至少增加 5 mm 为疾病进展）。这是测量规则，并非诊断结论；概率为模型在该次检查时给出的结果。</translation>
    </message>
    <message>
        <source>The baseline lesion has no measurement.</source>
        <translation>基线病灶没有测量值。</translation>
    </message>
    <message>
        <source>not measurable</source>
        <translation>不可测量</translation>
    </message>
    <message>
        <source>Longest diameter {0:.1f} mm → {1} ({2:+.1f} %, {3:+.1f} mm): {4}</source>
        <translation>最长径 {0:.1f} mm → {1}（{2:+.1f} %，{3:+.1f} mm）：{4}</translation>
    </message>
    <message>
        <source> · model probability at {0}: {1:.3f}</source>
        <translation> · {0}时的模型概率：{1:.3f}</translation>
    </message>
    <message>
        <source> · no model probability at {0}</source>
        <translation> · {0}时无模型概率</translation>
    </message>
    <message>
        <source>The plot needs pyqtgraph (the [plot] extra); {0}</source>
        <translation>绘图需要 pyqtgraph（[plot] 可选组件）；{0}</translation>
    </message>
    <message>
        <source>Longest diameter (mm)</source>
        <translation>最长径（mm）</translation>
    </message>
    <message>
        <source>partial response (-30 %)</source>
        <translation>部分缓解（-30 %）</translation>
    </message>
    <message>
        <source>progression (+20 % and 5 mm)</source>
        <translation>疾病进展（+20 % 且 5 mm）</translation>
    </message>
</context>
<context>
    <name>TimelineWiring</name>
    <message>
        <source>Size over time</source>
        <translation>大小随时间变化</translation>
    </message>
    <message>
        <source>Exams before the one labelled baseline are not compared.</source>
        <translation>标记为基线之前的检查不参与比较。</translation>
    </message>
    <message>
        <source>The exam {exam} has no trustworthy millimetre calibration, so the size over time is not measured. Calibrate it (Calibrate tool, K, or Edit → Type a known scale).</source>
        <translation>检查 {exam} 没有可信的毫米校准，因此不测量大小随时间的变化。请先校准（校准工具、K 键，或 编辑 → 输入已知比例尺）。</translation>
    </message>
    <message>
        <source>The baseline exam ({exam}) has no saved contour: draw the lesion there first.</source>
        <translation>基线检查（{exam}）没有已保存的轮廓：请先在该检查上勾画病灶。</translation>
    </message>
    <message>
        <source>{exam}: no contour saved, so it is left out.</source>
        <translation>{exam}：没有已保存的轮廓，因此未纳入。</translation>
    </message>
    <message>
        <source>exam {n}</source>
        <translation>第 {n} 次检查</translation>
    </message>
    <message>
        <source>{exam}: the saved result belongs to an earlier contour or model (stale); no probability is shown. Press Predict on that image.</source>
        <translation>{exam}：已保存的结果属于之前的轮廓或模型（已过时），不显示概率。请在该图像上点击“预测”。</translation>
    </message>
    <message>
        <source>{exam}: probability read from the annotation file; it belongs to this contour but was not re-computed in this session.</source>
        <translation>{exam}：概率读取自标注文件；它属于此轮廓，但未在本次会话中重新计算。</translation>
    </message>
    <message>
        <source>{exam}: outside the model&apos;s training domain, no probability.</source>
        <translation>{exam}：超出模型的训练范围，不给出概率。</translation>
    </message>
    <message>
        <source>{exam}: two-view volume {volume} mm³</source>
        <translation>{exam}：双切面体积 {volume} mm³</translation>
    </message>
</context>
<context>
    <name>Worklist</name>
    <message>
        <source>{folder}  ({n} images)</source>
        <translation>{folder}  （{n} 张图像）</translation>
    </message>
    <message>
        <source>Patient {name} · ID {id}</source>
        <translation>患者 {name} · ID {id}</translation>
    </message>
    <message>
        <source>Patient {id}</source>
        <translation>患者 {id}</translation>
    </message>
    <message>
        <source>Patient {n}</source>
        <translation>患者 {n}</translation>
    </message>
    <message>
        <source>no time-point label</source>
        <translation>无时间点标注</translation>
    </message>
    <message>
        <source>1 image</source>
        <translation>1 张图像</translation>
    </message>
    <message>
        <source>{n} images</source>
        <translation>{n} 张图像</translation>
    </message>
    <message>
        <source>    Exam {date} · {label} · {count}</source>
        <translation>    检查 {date} · {label} · {count}</translation>
    </message>
    <message>
        <source>    Exam {number} · {label} · {count}</source>
        <translation>    第 {number} 次检查 · {label} · {count}</translation>
    </message>
</context>
<context>
    <name>about</name>
    <message>
        <source>&lt;h2&gt;Tools&lt;/h2&gt;&lt;ul&gt;{tools}&lt;/ul&gt;&lt;p&gt;Mouse wheel (or trackpad pinch) zooms at the cursor; + and − zoom about the centre of the view; the middle button pans in every tool; right-drag changes brightness (up = brighter) and contrast (left = more contrast), W resets them; Esc cancels a gesture.&lt;/p&gt;&lt;h2&gt;Keyboard shortcuts&lt;/h2&gt;&lt;table cellpadding=3&gt;{shortcuts}&lt;/table&gt;&lt;h2&gt;Workflow&lt;/h2&gt;&lt;ol&gt;&lt;li&gt;Open an image or a folder (worklist).&lt;/li&gt;&lt;li&gt;Check the calibration badge; calibrate with K if it says &apos;Not calibrated&apos;.&lt;/li&gt;&lt;li&gt;Draw the tumour (P or F), correct it with Edit (E); the model&apos;s rings follow live.&lt;/li&gt;&lt;li&gt;Predict (Ctrl+Enter). Any later edit marks the result stale.&lt;/li&gt;&lt;li&gt;Mark reviewed (Ctrl+R), export the PDF report (Ctrl+P). Everything is autosaved.&lt;/li&gt;&lt;/ol&gt;</source>
        <translation>&lt;h2&gt;工具&lt;/h2&gt;&lt;ul&gt;{tools}&lt;/ul&gt;&lt;p&gt;鼠标滚轮（或触控板双指缩放）以光标为中心缩放；+ 和 − 以视图中心缩放；在任何工具下按住鼠标中键均可平移；按住右键拖动可调节亮度（向上 = 更亮）和对比度（向左 = 对比度更高），W 键复位；Esc 取消当前手势。&lt;/p&gt;&lt;h2&gt;键盘快捷键&lt;/h2&gt;&lt;table cellpadding=3&gt;{shortcuts}&lt;/table&gt;&lt;h2&gt;工作流程&lt;/h2&gt;&lt;ol&gt;&lt;li&gt;打开图像或文件夹（工作列表）。&lt;/li&gt;&lt;li&gt;检查校准标识；若显示“未校准”，按 K 进行校准。&lt;/li&gt;&lt;li&gt;勾画肿瘤（P 或 F），用“编辑”（E）修正；模型的瘤周环实时跟随。&lt;/li&gt;&lt;li&gt;预测（Ctrl+Enter）。之后的任何编辑都会使结果标记为已过时。&lt;/li&gt;&lt;li&gt;标记为已审阅（Ctrl+R），导出 PDF 报告（Ctrl+P）。所有工作均自动保存。&lt;/li&gt;&lt;/ol&gt;</translation>
    </message>
    <message>
        <source>Help — tools and shortcuts</source>
        <translation>帮助 — 工具与快捷键</translation>
    </message>
    <message>
        <source>_The model is not loaded; its card is shown once it is._</source>
        <translation>_模型尚未加载；加载后将显示其模型卡。_</translation>
    </message>
    <message>
        <source># DLRS Desktop {version}

**Research use only.** Not a diagnosis; never the sole basis of a clinical decision. The card of the loaded model below says what it was trained on (the bundled demonstration model: synthetic data).

Follows the method of the dual-centre study of Liu et al. (BMC Cancer 25:1737, 2025), which predicted early response to neoadjuvant chemotherapy from one breast ultrasound image: ResNet models on the tumour and on 3, 5 and 10 mm peritumoral rings, combined by stacking fusion. Runs offline; nothing leaves this computer.</source>
        <translation># DLRS Desktop {version}

**仅供研究使用**。并非诊断结论；绝不能作为临床决策的唯一依据。下方已加载模型的模型卡说明了其训练数据（随附的演示模型：合成数据）。

沿用 Liu 等人双中心研究（BMC Cancer 25:1737, 2025）的方法：该研究由一张乳腺超声图像预测新辅助化疗的早期反应，分别基于瘤内区域及 3、5、10 mm 瘤周环的 ResNet 模型，通过堆叠融合合并。完全离线运行；任何数据都不会离开本机。</translation>
    </message>
    <message>
        <source>**Research notice of the loaded model:** {notice}</source>
        <translation>**已加载模型的研究声明**：{notice}</translation>
    </message>
    <message>
        <source>the tumour alone (no rings)</source>
        <translation>仅肿瘤本身（无瘤周环）</translation>
    </message>
    <message>
        <source>the tumour and its {radii} mm rings</source>
        <translation>肿瘤及其 {radii} mm 瘤周环</translation>
    </message>
    <message>
        <source>**The loaded model** ({model}) gives the probability of {short_name} ({name}) from {regions}.</source>
        <translation>**已加载的模型**（{model}）根据{regions}给出{short_name}（{name}）的概率。</translation>
    </message>
    <message>
        <source>About DLRS Desktop</source>
        <translation>关于 DLRS Desktop</translation>
    </message>
    <message>
        <source>GPU inference needs the [gpu] extra ({hint})</source>
        <translation>GPU 推理需要安装 [gpu] 扩展（{hint}）</translation>
    </message>
    <message>
        <source>no GPU found on this computer</source>
        <translation>本机未发现 GPU</translation>
    </message>
</context>
<context>
    <name>app</name>
    <message>
        <source>Something went wrong ({error}). Your work is autosaved.</source>
        <translation>出现错误（{error}）。您的工作已自动保存。</translation>
    </message>
    <message>
        <source>Model: not loaded (--no-model)</source>
        <translation>模型：未加载（--no-model）</translation>
    </message>
    <message>
        <source>No model loaded (started with --no-model).</source>
        <translation>未加载模型（以 --no-model 启动）。</translation>
    </message>
    <message>
        <source>&apos;{path}&apos; does not exist.</source>
        <translation>“{path}”不存在。</translation>
    </message>
    <message>
        <source>DLRS Desktop did not close normally last time. Reopen &apos;{name}&apos; with its autosaved contours?</source>
        <translation>DLRS Desktop 上次未正常关闭。是否重新打开“{name}”及其自动保存的轮廓？</translation>
    </message>
    <message>
        <source>Recover work</source>
        <translation>恢复工作</translation>
    </message>
</context>
<context>
    <name>assist</name>
    <message>
        <source>learned</source>
        <extracomment>which engine answered a proposal (roi.assist.Proposal.method), as the status bar names it</extracomment>
        <translation>学习型</translation>
    </message>
    <message>
        <source>classical</source>
        <translation>经典方法</translation>
    </message>
    <message>
        <source>{task}…</source>
        <translation>{task}…</translation>
    </message>
    <message>
        <source>{task}: the image or contour changed meanwhile; proposal discarded.</source>
        <translation>{task}：图像或轮廓在此期间已更改；建议轮廓已丢弃。</translation>
    </message>
    <message>
        <source>{task}{method}: {count} vertices. Edit it like any contour; Ctrl+Z undoes it.</source>
        <translation>{task}{method}：{count} 个顶点。可像其他轮廓一样编辑；Ctrl+Z 撤销。</translation>
    </message>
    <message>
        <source>Ctrl+click corrects a proposed outline: drag a box around the lesion first.</source>
        <translation>Ctrl+单击用于修正建议轮廓：请先在病灶周围拖出方框。</translation>
    </message>
    <message>
        <source>Contour assist</source>
        <translation>轮廓辅助</translation>
    </message>
    <message>
        <source>Draw or propose a contour first, then snap it to the edges.</source>
        <translation>请先勾画或生成建议轮廓，然后再贴合到边缘。</translation>
    </message>
</context>
<context>
    <name>bars</name>
    <message>
        <source>not used by the fusion</source>
        <translation>未被融合使用</translation>
    </message>
    <message>
        <source>Contour sensitivity: computing…</source>
        <translation>轮廓敏感性：正在计算…</translation>
    </message>
    <message>
        <source>Device: {device} ({backend}) · probability in {seconds} s (contour sensitivity: computing…)</source>
        <translation>设备：{device}（{backend}）· 概率用时 {seconds} 秒（轮廓敏感性：正在计算…）</translation>
    </message>
    <message>
        <source>Device: {device} ({backend}) · {seconds} s (prediction, no contour sensitivity)</source>
        <translation>设备：{device}（{backend}）· {seconds} 秒（预测，未含轮廓敏感性）</translation>
    </message>
    <message>
        <source>not used by the fusion (weight {weight})</source>
        <extracomment>the labels&apos; column takes at most this share of the chart; a longer label is drawn smaller (down to MIN_LABEL_SCALE of the font), then elided in the middle: never cut at the chart&apos;s edge</extracomment>
        <translation>未被融合使用（权重 {weight}）</translation>
    </message>
    <message>
        <source>not used by the fusion (w {weight})</source>
        <translation>未被融合使用（权重 {weight}）</translation>
    </message>
    <message>
        <source>not used (weight {weight})</source>
        <translation>未使用（权重 {weight}）</translation>
    </message>
    <message>
        <source>computing…</source>
        <translation>正在计算…</translation>
    </message>
    <message>
        <source>Contour sensitivity: {lo} – {hi} (contour moved by up to ±{offset} mm)</source>
        <translation>轮廓敏感性：{lo} – {hi}（轮廓移动最多 ±{offset} mm）</translation>
    </message>
    <message>
        <source>, </source>
        <translation>、</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Weights in the fusion: {weights}; not used by the fusion (weight 0): {unused}</source>
        <translation>融合权重：{weights}；未被融合使用（权重 0）：{unused}</translation>
    </message>
    <message>
        <source>Weights in the fusion: {weights}</source>
        <translation>融合权重：{weights}</translation>
    </message>
    <message>
        <source>Device: {device} ({backend}) · {seconds} s (prediction and contour sensitivity)</source>
        <translation>设备：{device}（{backend}）· {seconds} 秒（预测及轮廓敏感性分析）</translation>
    </message>
    <message>
        <source>Device: {device} ({backend})</source>
        <translation>设备：{device}（{backend}）</translation>
    </message>
    <message>
        <source>Model: {id} {version} (sha256 {sha})</source>
        <translation>模型：{id} {version}（sha256 {sha}）</translation>
    </message>
</context>
<context>
    <name>calibration</name>
    <message>
        <source>DICOM region</source>
        <translation>DICOM 区域</translation>
    </message>
    <message>
        <source>DICOM pixel spacing</source>
        <translation>DICOM 像素间距</translation>
    </message>
    <message>
        <source>manual</source>
        <translation>手动</translation>
    </message>
    <message>
        <source>depth scale</source>
        <translation>深度标尺</translation>
    </message>
</context>
<context>
    <name>canvas</name>
    <message>
        <source>No image open.

Open an image: Ctrl+O · a folder as worklist: Ctrl+Shift+O
or drop a file here · File → Open demo case</source>
        <translation>未打开图像。

打开图像：Ctrl+O · 将文件夹作为工作列表打开：Ctrl+Shift+O
或将文件拖放到此处 · 文件 → 打开演示病例</translation>
    </message>
</context>
<context>
    <name>catalog</name>
    <message>
        <source>demonstration (synthetic data)</source>
        <extracomment>The catalogue&apos;s words for what a bundle was trained on (model/catalog.py `_source`) and the bundled real-data bundle&apos;s description; a bundle&apos;s other words are shown as written.</extracomment>
        <translation>演示（合成数据）</translation>
    </message>
    <message>
        <source>demonstration</source>
        <translation>演示</translation>
    </message>
    <message>
        <source>synthetic data</source>
        <translation>合成数据</translation>
    </message>
    <message>
        <source>real data</source>
        <translation>真实数据</translation>
    </message>
    <message>
        <source>public breast ultrasound</source>
        <translation>公开乳腺超声数据</translation>
    </message>
</context>
<context>
    <name>commands</name>
    <message>
        <source>Corrected outline (near the click)</source>
        <translation>修正后的轮廓（仅改点击处附近）</translation>
    </message>
    <message>
        <source>Corrected outline</source>
        <translation>修正后的轮廓</translation>
    </message>
    <message>
        <source>Snap to edges</source>
        <translation>贴合边缘</translation>
    </message>
    <message>
        <source>Assisted outline</source>
        <translation>辅助勾画</translation>
    </message>
    <message>
        <source>Smooth contour</source>
        <translation>平滑轮廓</translation>
    </message>
    <message>
        <source>Clear contour</source>
        <translation>清除轮廓</translation>
    </message>
    <message>
        <source>Use the file&apos;s calibration</source>
        <translation>使用文件自带的校准</translation>
    </message>
    <message>
        <source>Calibrate from depth scale</source>
        <translation>根据深度标尺校准</translation>
    </message>
    <message>
        <source>Draw polygon</source>
        <translation>绘制多边形</translation>
    </message>
    <message>
        <source>Draw freehand</source>
        <translation>手绘</translation>
    </message>
    <message>
        <source>Move vertex</source>
        <translation>移动顶点</translation>
    </message>
    <message>
        <source>Insert vertex</source>
        <translation>插入顶点</translation>
    </message>
    <message>
        <source>Delete vertex</source>
        <translation>删除顶点</translation>
    </message>
    <message>
        <source>Manual calibration</source>
        <translation>手动校准</translation>
    </message>
    <message>
        <source>Erase</source>
        <translation>擦除</translation>
    </message>
    <message>
        <source>Brush</source>
        <translation>画笔</translation>
    </message>
</context>
<context>
    <name>core</name>
    <message>
        <source>classical requested</source>
        <translation>已选择经典方法</translation>
    </message>
    <message>
        <source>onnxruntime unavailable ({detail})</source>
        <translation>onnxruntime 不可用（{detail}）</translation>
    </message>
    <message>
        <source>Corrective clicks need the learned contour assist; edit the outline by hand instead.</source>
        <extracomment>(without a reason, with one): a corrective click when the learned assist cannot take it</extracomment>
        <translation>修正点击需要学习型轮廓辅助；请改为手动编辑轮廓。</translation>
    </message>
    <message>
        <source>Corrective clicks need the learned contour assist ({why}); edit the outline by hand instead.</source>
        <translation>修正点击需要学习型轮廓辅助（{why}）；请改为手动编辑轮廓。</translation>
    </message>
    <message>
        <source>A two-click diameter needs the learned contour assist; drag a box around the lesion instead.</source>
        <translation>两点直径需要学习型轮廓辅助；请改为在病灶周围拖出方框。</translation>
    </message>
    <message>
        <source>A two-click diameter needs the learned contour assist ({why}); drag a box around the lesion instead.</source>
        <translation>两点直径需要学习型轮廓辅助（{why}）；请改为在病灶周围拖出方框。</translation>
    </message>
    <message>
        <source>{model} was not trained on corrective clicks</source>
        <translation>{model} 未用修正点击训练过</translation>
    </message>
    <message>
        <source>{model}, local</source>
        <translation>{model}，局部</translation>
    </message>
    <message>
        <source>the learned model failed: {error}</source>
        <translation>学习型模型运行失败：{error}</translation>
    </message>
    <message>
        <source>{method} ({why})</source>
        <translation>{method}（{why}）</translation>
    </message>
    <message>
        <source>No lesion outline found in the box; draw it by hand or try a tighter box.</source>
        <translation>方框内未找到病灶轮廓；请手动勾画，或换一个更贴合病灶的方框。</translation>
    </message>
    <message>
        <source>No lesion outline found in the box; draw it by hand.</source>
        <translation>方框内未找到病灶轮廓；请手动勾画。</translation>
    </message>
    <message>
        <source>The click is not inside a darker lesion; drag a box around the lesion instead.</source>
        <translation>点击处不在较暗的病灶内；请改为在病灶周围拖出方框。</translation>
    </message>
    <message>
        <source>No lesion found around the click; drag a box around the lesion instead.</source>
        <translation>点击处周围未找到病灶；请改为在病灶周围拖出方框。</translation>
    </message>
    <message>
        <source>A box is four numbers: X0 Y0 X1 Y1 (image pixels).</source>
        <translation>方框由四个数字组成：X0 Y0 X1 Y1（图像像素）。</translation>
    </message>
    <message>
        <source>The box has missing or infinite coordinates.</source>
        <translation>方框的坐标缺失或为无穷大。</translation>
    </message>
    <message>
        <source>The box ({x0:g}, {y0:g})–({x1:g}, {y1:g}) lies outside the {w}×{h} image.</source>
        <translation>方框 ({x0:g}, {y0:g})–({x1:g}, {y1:g}) 位于 {w}×{h} 图像之外。</translation>
    </message>
    <message>
        <source>The box is {w:.0f}×{h:.0f} pixels; drag a box of at least {minimum} pixels around the whole lesion.</source>
        <translation>方框大小为 {w:.0f}×{h:.0f} 像素；请围绕整个病灶拖出至少 {minimum} 像素的方框。</translation>
    </message>
    <message>
        <source>The box lies mostly outside the scan area; drag it around a lesion in the tissue.</source>
        <translation>方框大部分位于扫描区之外；请围绕组织中的病灶拖框。</translation>
    </message>
    <message>
        <source>A click is two numbers: X Y (image pixels).</source>
        <translation>点击由两个数字组成：X Y（图像像素）。</translation>
    </message>
    <message>
        <source>The click ({x:g}, {y:g}) lies outside the {w}×{h} image.</source>
        <translation>点击 ({x:g}, {y:g}) 位于 {w}×{h} 图像之外。</translation>
    </message>
    <message>
        <source>The click is outside the scan area; click inside the lesion.</source>
        <translation>点击处位于扫描区之外；请在病灶内点击。</translation>
    </message>
    <message>
        <source>The outline folded onto itself; draw it by hand.</source>
        <translation>轮廓自身折叠；请手动勾画。</translation>
    </message>
    <message>
        <source>No lesion outline found; draw it by hand or try a tighter box.</source>
        <translation>未找到病灶轮廓；请手动勾画，或换一个更贴合病灶的方框。</translation>
    </message>
    <message>
        <source>{model} was not trained on corrective clicks; edit the outline by hand instead.</source>
        <translation>{model} 未用修正点击训练过；请改为手动编辑轮廓。</translation>
    </message>
    <message>
        <source>At most {count} corrective clicks; drag a new box and start again.</source>
        <translation>修正点击最多 {count} 次；请拖出新的方框重新开始。</translation>
    </message>
    <message>
        <source>Nothing lesion-like around the click; click inside the lesion or drag a box around it.</source>
        <translation>点击处周围没有类似病灶的结构；请在病灶内点击，或在病灶周围拖出方框。</translation>
    </message>
    <message>
        <source>A diameter is two points: X1 Y1 X2 Y2 (image pixels).</source>
        <translation>直径由两个点组成：X1 Y1 X2 Y2（图像像素）。</translation>
    </message>
    <message>
        <source>The two clicks are closer than {minimum} pixels; click both ends of the lesion&apos;s longest diameter.</source>
        <translation>两次点击相距不足 {minimum} 像素；请点击病灶最长径的两端。</translation>
    </message>
    <message>
        <source>{model} was not trained on two-click diameters; drag a box around the lesion instead.</source>
        <translation>{model} 未用两点直径训练过；请改为在病灶周围拖出方框。</translation>
    </message>
    <message>
        <source>No lesion outline found along the two clicks; drag a box around the lesion.</source>
        <translation>沿两次点击未找到病灶轮廓；请在病灶周围拖出方框。</translation>
    </message>
    <message>
        <source>The outline covers no pixel of the image; draw it again.</source>
        <translation>轮廓未覆盖图像的任何像素；请重新勾画。</translation>
    </message>
    <message>
        <source>The contour needs at least 3 points; it has {count}.</source>
        <translation>轮廓至少需要 3 个点；当前只有 {count} 个。</translation>
    </message>
    <message>
        <source>{off} of the contour&apos;s {count} points lie outside the image ({w}×{h} pixels); move them back onto the image.</source>
        <translation>轮廓的 {count} 个点中有 {off} 个位于图像（{w}×{h} 像素）之外；请将它们移回图像内。</translation>
    </message>
    <message>
        <source>The contour belongs to frame {frame} (index {index}) but the image shows frame {shown} (index {shown_index}).</source>
        <translation>该轮廓属于第 {frame} 帧（索引 {index}），但图像显示的是第 {shown} 帧（索引 {shown_index}）。</translation>
    </message>
    <message>
        <source>The contour needs at least 3 distinct points.</source>
        <translation>轮廓至少需要 3 个不同的点。</translation>
    </message>
    <message>
        <source>The contour encloses no area (its points lie on one line).</source>
        <translation>轮廓未围出任何面积（其各点位于一条直线上）。</translation>
    </message>
    <message>
        <source>The contour encloses only {area:.2g} mm², below the {minimum:g} mm² minimum; draw around the whole tumour.</source>
        <translation>轮廓仅围出 {area:.2g} mm²，低于最小值 {minimum:g} mm²；请勾画整个肿瘤。</translation>
    </message>
    <message>
        <source>The contour encloses only {area:.2g} pixels; draw around the whole tumour.</source>
        <translation>轮廓仅围出 {area:.2g} 个像素；请勾画整个肿瘤。</translation>
    </message>
    <message>
        <source>The contour folds back on itself and encloses no area.</source>
        <translation>轮廓自身折返，未围出任何面积。</translation>
    </message>
    <message>
        <source>The contour crosses itself (near x={x:.0f}, y={y:.0f}) and cannot be repaired without guessing; move the points so that the outline does not cross.</source>
        <translation>轮廓自相交（约在 x={x:.0f}, y={y:.0f} 处），无法在不作猜测的情况下修复；请移动各点，使轮廓不再交叉。</translation>
    </message>
    <message>
        <source>The contour lies in an ultrasound region that is not a 2D tissue image (e.g. Doppler or M-mode); draw it on the B-mode image.</source>
        <translation>轮廓位于非二维组织图像的超声区域（如多普勒或 M 型）；请在 B 型图像上勾画。</translation>
    </message>
    <message>
        <source>The contour crosses two ultrasound regions (e.g. the two halves of a dual view); draw it inside one image.</source>
        <translation>轮廓跨越两个超声区域（如双幅显示的两半）；请在同一幅图像内勾画。</translation>
    </message>
    <message>
        <source>The contour leaves the ultrasound image region; draw it inside the scan area.</source>
        <translation>轮廓超出超声图像区域；请在扫描区内勾画。</translation>
    </message>
    <message>
        <source>The contour crosses from one view of this split image into another ({views} views side by side or one above the other); draw it inside one view.</source>
        <translation>轮廓从这幅分屏图像的一个视图跨入另一个视图（{views} 个视图左右或上下排列）；请在同一视图内勾画。</translation>
    </message>
    <message>
        <source>{percent:.0f} % of the contour lies outside the scan area (on the black margin, text or rulers); draw it on the tissue.</source>
        <translation>轮廓有 {percent:.0f} % 位于扫描区之外（黑色边缘、文字或标尺上）；请在组织上勾画。</translation>
    </message>
    <message>
        <source>left</source>
        <extracomment>Words the templates take as values (the side of the scan area, what sets the major ticks apart).</extracomment>
        <translation>左侧</translation>
    </message>
    <message>
        <source>right</source>
        <translation>右侧</translation>
    </message>
    <message>
        <source>longer</source>
        <translation>更长</translation>
    </message>
    <message>
        <source>coloured</source>
        <translation>带颜色</translation>
    </message>
    <message>
        <source>brighter</source>
        <translation>更亮</translation>
    </message>
    <message>
        <source>every 2nd tick is {f}: 5 mm ticks between centimetre ticks</source>
        <extracomment>every k-th tick is {f} → what one tick interval is</extracomment>
        <translation>每第 2 个刻度{f}：厘米刻度之间有 5 mm 刻度</translation>
    </message>
    <message>
        <source>every 5th tick is {f}: centimetre ticks with 5 cm major ticks</source>
        <translation>每第 5 个刻度{f}：厘米刻度，每 5 cm 一个主刻度</translation>
    </message>
    <message>
        <source>every 10th tick is {f}: millimetre ticks with centimetre major ticks</source>
        <translation>每第 10 个刻度{f}：毫米刻度，每厘米一个主刻度</translation>
    </message>
    <message>
        <source>depth scale at the {side} (x≈{x:.0f}): {count} ticks {period:.2f} px apart = {tick:g} mm → {mmpp:.4f} mm/px (scan depth {depth:.1f} cm, confidence {confidence:.2f})</source>
        <translation>{side}的深度标尺（x≈{x:.0f}）：{count} 个刻度，间距 {period:.2f} px = {tick:g} mm → {mmpp:.4f} mm/px（扫描深度 {depth:.1f} cm，置信度 {confidence:.2f}）</translation>
    </message>
    <message>
        <source>uniform ticks: {tick:g} mm apart gives a breast-imaging depth of {depth:.1f} cm, while {other:g} mm is implausible ({problem})</source>
        <translation>等长刻度：间距 {tick:g} mm 对应 {depth:.1f} cm 的乳腺成像深度，而 {other:g} mm 不合理（{problem}）</translation>
    </message>
    <message>
        <source>{mmpp:.3f} mm/px is outside {lo:g}–{hi:g}</source>
        <translation>{mmpp:.3f} mm/px 超出 {lo:g}–{hi:g} 的范围</translation>
    </message>
    <message>
        <source>a scan depth of {depth:.1f} cm is outside {lo:g}–{hi:g} cm</source>
        <translation>扫描深度 {depth:.1f} cm 超出 {lo:g}–{hi:g} cm 的范围</translation>
    </message>
    <message>
        <source>the whole image would be {depth:.1f} cm deep</source>
        <translation>整幅图像将深达 {depth:.1f} cm</translation>
    </message>
    <message>
        <source>The {count} tick marks at the {side} of the scan area are not evenly spaced (rows {rms:.1f} px rms off a {period:.1f} px spacing, {filled:.0f} % of the positions filled), so no scale is read from them.</source>
        <translation>扫描区{side}的 {count} 个刻度间距不均匀（各行偏离 {period:.1f} px 间距的均方根为 {rms:.1f} px，{filled:.0f} % 的位置有刻度），因此不从中读取标尺。</translation>
    </message>
    <message>
        <source>The tick marks at the {side} of the scan area are irregularly spaced ({stray} of {count} off any regular spacing), so no scale is read from them.</source>
        <translation>扫描区{side}的刻度间距不规则（{count} 个中有 {stray} 个不符合任何规则间距），因此不从中读取标尺。</translation>
    </message>
    <message>
        <source>The depth scale is not legible: the best column of tick marks beside the scan area has only {count} regularly spaced ticks (at least {minimum} are needed).</source>
        <translation>深度标尺无法辨认：扫描区旁最好的一列刻度只有 {count} 个等间距刻度（至少需要 {minimum} 个）。</translation>
    </message>
    <message>
        <source>No depth scale was found: there is no column of regularly spaced tick marks beside the scan area.</source>
        <translation>未找到深度标尺：扫描区旁没有一列等间距的刻度。</translation>
    </message>
    <message>
        <source>The depth scale&apos;s ticks are {period:.1f} px apart ({rule}), but at {tick:g} mm per tick {problem}, so no scale is read.</source>
        <translation>深度标尺的刻度间距为 {period:.1f} px（{rule}），但若每个刻度为 {tick:g} mm，则{problem}，因此不读取标尺。</translation>
    </message>
    <message>
        <source>The depth scale&apos;s ticks are {period:.1f} px apart with every {k}th tick {f}: {a:g} mm and {b:g} mm per tick are both plausible, so no scale is read.</source>
        <translation>深度标尺的刻度间距为 {period:.1f} px，每第 {k} 个刻度{f}：每个刻度 {a:g} mm 和 {b:g} mm 都合理，因此不读取标尺。</translation>
    </message>
    <message>
        <source>The depth scale&apos;s ticks are {period:.1f} px apart with no longer centimetre ticks: {other:g} mm per tick is implausible ({problem}) and {tick:g} mm gives a scan depth of {depth:.1f} cm, outside breast imaging (2–8 cm), so no scale is read.</source>
        <translation>深度标尺的刻度间距为 {period:.1f} px，且没有更长的厘米刻度：每个刻度 {other:g} mm 不合理（{problem}），而 {tick:g} mm 对应的扫描深度 {depth:.1f} cm 超出乳腺成像范围（2–8 cm），因此不读取标尺。</translation>
    </message>
    <message>
        <source>The depth scale&apos;s ticks are {period:.1f} px apart, but neither 1 cm ({problem_cm}) nor 5 mm ({problem_5mm}) per tick gives a plausible scale, so no scale is read.</source>
        <translation>深度标尺的刻度间距为 {period:.1f} px，但每个刻度取 1 cm（{problem_cm}）或 5 mm（{problem_5mm}）都得不到合理的比例，因此不读取标尺。</translation>
    </message>
    <message>
        <source>The depth scale&apos;s ticks are {period:.1f} px apart with no longer centimetre ticks: 1 cm ({cm:.3f} mm/px, scan depth {depth_cm:.1f} cm) and 5 mm ({mm5:.3f} mm/px, {depth_5mm:.1f} cm) per tick are both possible, so no scale is read; calibrate with the Calibrate tool (K) along the ruler.</source>
        <translation>深度标尺的刻度间距为 {period:.1f} px，且没有更长的厘米刻度：每个刻度取 1 cm（{cm:.3f} mm/px，扫描深度 {depth_cm:.1f} cm）和 5 mm（{mm5:.3f} mm/px，{depth_5mm:.1f} cm）都有可能，因此不读取标尺；请用“校准”工具（K）沿标尺校准。</translation>
    </message>
    <message>
        <source>Two columns of tick marks disagree ({period:.1f} px apart at the {side}, {other_period:.1f} px at the {other_side}), so no scale is read.</source>
        <translation>两列刻度不一致（{side}间距 {period:.1f} px，{other_side}间距 {other_period:.1f} px），因此不读取标尺。</translation>
    </message>
    <message>
        <source>infinitely</source>
        <extracomment>One limit for every calibration source (DICOM regions, PixelSpacing, typed, saved): pixels more than 3 times longer one way than the other are a damaged header or a typo, not an ultrasound image.</extracomment>
        <translation>无限</translation>
    </message>
    <message>
        <source>{x:.4g} mm × {y:.4g} mm per pixel is {ratio} anisotropic (the limit is {limit:g}:1 for any calibration)</source>
        <translation>每像素 {x:.4g} mm × {y:.4g} mm 的各向异性为 {ratio}（任何校准的上限均为 {limit:g}:1）</translation>
    </message>
    <message>
        <source>A calibration of {value:g} mm per pixel is not plausible for an ultrasound image (expected between 0.0001 and 10 mm/px).</source>
        <translation>每像素 {value:g} mm 的校准对超声图像而言不合理（应在 0.0001 到 10 mm/px 之间）。</translation>
    </message>
    <message>
        <source>A calibration of {problem}.</source>
        <translation>校准无效：{problem}。</translation>
    </message>
    <message>
        <source>The calibration line is too short; draw it along at least 5 pixels.</source>
        <translation>校准线太短；请沿至少 5 个像素画线。</translation>
    </message>
    <message>
        <source>The known distance must be a positive number of millimetres.</source>
        <translation>已知距离必须是正的毫米数。</translation>
    </message>
    <message>
        <source>This ultrasound region is not a 2D tissue image in centimetres.</source>
        <translation>此超声区域不是以厘米为单位的二维组织图像。</translation>
    </message>
    <message>
        <source>This ultrasound region extends beyond the stored image: the image was resized or cropped after acquisition, so its scale cannot be trusted.</source>
        <translation>此超声区域超出了所存储的图像：图像在采集后被缩放或裁剪过，其比例尺不可信。</translation>
    </message>
    <message>
        <source>Cannot open &apos;{name}&apos;: {why}</source>
        <extracomment>&quot;Cannot open &apos;NAME&apos;: WHY&quot;, WHY a clause of its own (imaging/raster.py, imaging/dicom_reader.py)</extracomment>
        <translation>无法打开“{name}”：{why}</translation>
    </message>
    <message>
        <source>image</source>
        <extracomment>what the workstation opens, named in its refusals (`check_regular_file`&apos;s and `parse_json`&apos;s `what`), in its language</extracomment>
        <translation>图像</translation>
    </message>
    <message>
        <source>mask image</source>
        <translation>掩膜图像</translation>
    </message>
    <message>
        <source>contour file</source>
        <translation>轮廓文件</translation>
    </message>
    <message>
        <source>text</source>
        <translation>文本</translation>
    </message>
    <message>
        <source>model manifest (manifest.json)</source>
        <translation>模型清单（manifest.json）</translation>
    </message>
    <message>
        <source>The {what} &apos;{name}&apos; does not exist.</source>
        <translation>{what}“{name}”不存在。</translation>
    </message>
    <message>
        <source>Cannot open the {what} &apos;{name}&apos;: {detail}.</source>
        <translation>无法打开{what}“{name}”：{detail}。</translation>
    </message>
    <message>
        <source>Cannot open &apos;{name}&apos;: it is a folder, not a {what}.</source>
        <translation>无法打开“{name}”：这是一个文件夹，而不是{what}。</translation>
    </message>
    <message>
        <source>Cannot open &apos;{name}&apos;: it is not a regular file (a pipe, device or socket).</source>
        <translation>无法打开“{name}”：这不是普通文件（而是管道、设备或套接字）。</translation>
    </message>
    <message>
        <source>The {what} &apos;{name}&apos; is {size:,} bytes, over the limit of {limit:,} bytes.</source>
        <translation>{what}“{name}”大小为 {size:,} 字节，超过 {limit:,} 字节的上限。</translation>
    </message>
    <message>
        <source>Cannot open &apos;{name}&apos;: it is not a regular file.</source>
        <translation>无法打开“{name}”：它不是普通文件。</translation>
    </message>
    <message>
        <source>The {what} &apos;{name}&apos; is over the limit of {limit:,} bytes.</source>
        <translation>{what}“{name}”超过 {limit:,} 字节的上限。</translation>
    </message>
    <message>
        <source>The {what} nests deeper than JSON data can sensibly be; it is damaged.</source>
        <translation>{what}的嵌套层数超出了 JSON 数据的合理范围；文件已损坏。</translation>
    </message>
    <message>
        <source>The {what} is not valid JSON ({detail}).</source>
        <translation>{what}不是有效的 JSON（{detail}）。</translation>
    </message>
    <message>
        <source>the {kind} file is damaged or truncated: its size cannot be read.</source>
        <translation>该 {kind} 文件已损坏或不完整：无法读取其尺寸。</translation>
    </message>
    <message>
        <source>the image is empty ({w} x {h} pixels).</source>
        <translation>图像为空（{w} x {h} 像素）。</translation>
    </message>
    <message>
        <source>frame {index} does not exist; the file has 1 frame (0 to 0).</source>
        <translation>第 {index} 帧不存在；该文件只有 1 帧（0 到 0）。</translation>
    </message>
    <message>
        <source>the {kind} file is damaged or truncated and cannot be decoded.</source>
        <translation>该 {kind} 文件已损坏或不完整，无法解码。</translation>
    </message>
    <message>
        <source>the decoded size does not match the file header (damaged file).</source>
        <translation>解码后的尺寸与文件头不符（文件已损坏）。</translation>
    </message>
    <message>
        <source>the image is too large (over 100 megapixels).</source>
        <translation>图像太大（超过 1 亿像素）。</translation>
    </message>
    <message>
        <source>its compression &apos;{name}&apos; ({uid}) is not supported.</source>
        <translation>不支持其压缩格式“{name}”（{uid}）。</translation>
    </message>
    <message>
        <source>it is not a DICOM file.</source>
        <translation>这不是 DICOM 文件。</translation>
    </message>
    <message>
        <source>the DICOM file is truncated or damaged (its header cannot be read).</source>
        <translation>该 DICOM 文件不完整或已损坏（无法读取其文件头）。</translation>
    </message>
    <message>
        <source>the file is incomplete (it ends in the middle of the data: a truncated copy?).</source>
        <translation>文件不完整（在数据中途结束：可能是未复制完整的副本？）。</translation>
    </message>
    <message>
        <source>it holds floating-point pixel data, which is not an ultrasound image.</source>
        <translation>其中为浮点像素数据，不是超声图像。</translation>
    </message>
    <message>
        <source>the image data is missing; the file is probably truncated (an incomplete copy).</source>
        <translation>缺少图像数据；文件可能不完整（未复制完整的副本）。</translation>
    </message>
    <message>
        <source>the DICOM file contains no image (no pixel data), e.g. a report or a presentation state.</source>
        <translation>该 DICOM 文件不含图像（没有像素数据），例如报告或显示状态对象。</translation>
    </message>
    <message>
        <source>its colour encoding &apos;{pi}&apos; is not supported.</source>
        <translation>不支持其颜色编码“{pi}”。</translation>
    </message>
    <message>
        <source>it has {samples} samples per pixel; only grey (1) and colour (3) are supported.</source>
        <translation>其每像素有 {samples} 个采样；仅支持灰度（1）和彩色（3）。</translation>
    </message>
    <message>
        <source>the file is incomplete: its image data is {missing:,} bytes shorter than the header says (a truncated copy or download).</source>
        <translation>文件不完整：其图像数据比文件头声明的少 {missing:,} 字节（复制或下载未完成）。</translation>
    </message>
    <message>
        <source>its pixel data element claims {declared:,} bytes but the file holds only {available:,} (a damaged file).</source>
        <translation>其像素数据元素声明为 {declared:,} 字节，但文件中只有 {available:,} 字节（文件已损坏）。</translation>
    </message>
    <message>
        <source>no decoder for its compression &apos;{name}&apos; is installed.</source>
        <translation>未安装其压缩格式“{name}”的解码器。</translation>
    </message>
    <message>
        <source>the pixel data is truncated (the file is incomplete).</source>
        <translation>像素数据被截断（文件不完整）。</translation>
    </message>
    <message>
        <source>the pixel data cannot be decoded ({detail}).</source>
        <translation>无法解码像素数据（{detail}）。</translation>
    </message>
    <message>
        <source>its {keyword} ({raw}) is not a number.</source>
        <translation>其 {keyword}（{raw}）不是数字。</translation>
    </message>
    <message>
        <source>its {keyword} is {value} (not a finite number): the pixel values are garbage.</source>
        <translation>其 {keyword} 为 {value}（不是有限数值）：像素值无意义。</translation>
    </message>
    <message>
        <source>its RescaleSlope is 0, which maps every pixel to the same value.</source>
        <translation>其 RescaleSlope 为 0，会把所有像素映射为同一个值。</translation>
    </message>
    <message>
        <source>its colour palette is missing or damaged ({detail}).</source>
        <translation>其调色板缺失或已损坏（{detail}）。</translation>
    </message>
    <message>
        <source>its rescale (RescaleSlope/RescaleIntercept) overflows: the pixel values are garbage.</source>
        <translation>其线性变换（RescaleSlope/RescaleIntercept）溢出：像素值无意义。</translation>
    </message>
    <message>
        <source>it is neither a DICOM file nor a supported image (PNG, JPEG, TIFF, BMP).</source>
        <translation>既不是 DICOM 文件，也不是支持的图像格式（PNG、JPEG、TIFF、BMP）。</translation>
    </message>
    <message>
        <source>frame {index} does not exist; the file has {frames} frames (0 to {last}).</source>
        <translation>第 {index} 帧不存在；该文件共有 {frames} 帧（0 到 {last}）。</translation>
    </message>
    <message>
        <source>{detail}.</source>
        <translation>{detail}。</translation>
    </message>
    <message>
        <source>the image is too large for the memory available.</source>
        <translation>图像太大，可用内存不足。</translation>
    </message>
    <message>
        <source>its header nests too deeply (damaged file).</source>
        <translation>其文件头嵌套过深（文件已损坏）。</translation>
    </message>
    <message>
        <source>the file is damaged or malformed ({detail}).</source>
        <translation>文件已损坏或格式错误（{detail}）。</translation>
    </message>
    <message>
        <source>the file is empty.</source>
        <translation>文件为空。</translation>
    </message>
    <message>
        <source>the file is named like a {kind} image but its content is not one (damaged or mislabelled).</source>
        <translation>文件名像是 {kind} 图像，但其内容不是（已损坏或扩展名有误）。</translation>
    </message>
    <message>
        <source>its deflated data is damaged.</source>
        <translation>其压缩（deflate）数据已损坏。</translation>
    </message>
    <message>
        <source>its deflated dataset inflates to over {limit} MB, the limit.</source>
        <translation>其压缩（deflate）数据集解压后超过 {limit} MB 的上限。</translation>
    </message>
    <message>
        <source>it has more than {limit} ultrasound regions, the limit.</source>
        <translation>其超声区域超过 {limit} 个的上限。</translation>
    </message>
    <message>
        <source>the image is too large ({w} x {h} = {mp:.0f} megapixels; the limit is {limit} megapixels).</source>
        <translation>图像太大（{w} x {h} = {mp:.0f} 百万像素；上限为 {limit} 百万像素）。</translation>
    </message>
    <message>
        <source>the image is too large (over the limit of {limit} megapixels).</source>
        <translation>图像太大（超过 {limit} 百万像素的上限）。</translation>
    </message>
    <message>
        <source>it declares {frames:,} frames; the limit is {limit:,}.</source>
        <translation>其声明有 {frames:,} 帧；上限为 {limit:,} 帧。</translation>
    </message>
    <message>
        <source>{bits} bits allocated per sample is not an image encoding it reads (1, 8, 16 or 32).</source>
        <translation>每个采样分配 {bits} 位，不是可读取的图像编码（1、8、16 或 32）。</translation>
    </message>
    <message>
        <source>one frame decodes to {mb:.0f} MB; the limit is {limit} MB.</source>
        <translation>单帧解码后为 {mb:.0f} MB；上限为 {limit} MB。</translation>
    </message>
    <message>
        <source>{w} x {h} pixels may decode to {mb:.0f} MB; the limit is {limit} MB.</source>
        <translation>{w} x {h} 像素解码后可能达到 {mb:.0f} MB；上限为 {limit} MB。</translation>
    </message>
    <message>
        <source>its compressed pixel data is not correctly encapsulated (damaged file).</source>
        <translation>其压缩像素数据的封装不正确（文件已损坏）。</translation>
    </message>
    <message>
        <source>its {codec} data cannot be decoded: no readable frame header (damaged file).</source>
        <translation>其 {codec} 数据无法解码：没有可读的帧头（文件已损坏）。</translation>
    </message>
    <message>
        <source>its {codec} data says {w} x {h} pixels with {comps} components, the DICOM header {cols} x {rows} with {samples} (damaged or forged file).</source>
        <translation>其 {codec} 数据为 {w} x {h} 像素、{comps} 个分量，而 DICOM 文件头为 {cols} x {rows}、{samples} 个（文件已损坏或被伪造）。</translation>
    </message>
    <message>
        <source>its RLE data has no segment table (damaged file).</source>
        <translation>其 RLE 数据没有分段表（文件已损坏）。</translation>
    </message>
    <message>
        <source>its RLE segment table does not match the image header (damaged file).</source>
        <translation>其 RLE 分段表与图像头不符（文件已损坏）。</translation>
    </message>
    <message>
        <source>the decoded image is {w} x {h}, not {cols} x {rows} as declared.</source>
        <translation>解码后的图像为 {w} x {h}，而不是声明的 {cols} x {rows}。</translation>
    </message>
    <message>
        <source>model bundle</source>
        <extracomment>what `check_listed` names, in the interface&apos;s language where the GUI shows it</extracomment>
        <translation>模型包</translation>
    </message>
    <message>
        <source>contour-assist bundle</source>
        <translation>轮廓辅助模型包</translation>
    </message>
    <message>
        <source>The model bundle is incomplete: file &apos;{name}&apos; is missing or unreadable.</source>
        <translation>模型包不完整：文件“{name}”缺失或无法读取。</translation>
    </message>
    <message>
        <source>File &apos;{name}&apos; of the model bundle links outside the bundle folder; refusing it.</source>
        <translation>模型包中的文件“{name}”链接到模型包文件夹之外；已拒绝。</translation>
    </message>
    <message>
        <source>File &apos;{name}&apos; of the model bundle is not a regular file (a pipe, device...).</source>
        <translation>模型包中的文件“{name}”不是普通文件（管道、设备等）。</translation>
    </message>
    <message>
        <source>File &apos;{name}&apos; of the model bundle is over the limit of {limit:,} bytes.</source>
        <translation>模型包中的文件“{name}”超过 {limit:,} 字节的上限。</translation>
    </message>
    <message>
        <source>File &apos;{name}&apos; of the {what} has {size} bytes, the manifest says {listed} (modified or truncated); refusing to load.</source>
        <translation>{what}中的文件“{name}”有 {size} 字节，而清单记载为 {listed}（已被修改或截断）；拒绝加载。</translation>
    </message>
    <message>
        <source>File &apos;{name}&apos; of the {what} does not match its sha256 in the manifest (modified or corrupted); refusing to load.</source>
        <translation>{what}中的文件“{name}”与清单中的 sha256 不符（已被修改或损坏）；拒绝加载。</translation>
    </message>
    <message>
        <source>The model bundle&apos;s files add up to {total:,} bytes, over the limit of {limit:,}.</source>
        <translation>模型包的文件合计 {total:,} 字节，超过 {limit:,} 字节的上限。</translation>
    </message>
    <message>
        <source>&apos;{name}&apos; in the bundle zip is over the limit of {limit:,} bytes.</source>
        <translation>模型包 zip 中的“{name}”超过 {limit:,} 字节的上限。</translation>
    </message>
    <message>
        <source>&apos;{name}&apos; in the bundle zip is damaged ({detail}).</source>
        <translation>模型包 zip 中的“{name}”已损坏（{detail}）。</translation>
    </message>
    <message>
        <source>Weights file &apos;{name}&apos; is not a safetensors file.</source>
        <translation>权重文件“{name}”不是 safetensors 文件。</translation>
    </message>
    <message>
        <source>Weights file &apos;{name}&apos; is not a safetensors file (bad header length).</source>
        <translation>权重文件“{name}”不是 safetensors 文件（文件头长度错误）。</translation>
    </message>
    <message>
        <source>Weights file &apos;{name}&apos; is not a safetensors file (bad header).</source>
        <translation>权重文件“{name}”不是 safetensors 文件（文件头错误）。</translation>
    </message>
    <message>
        <source>Weights file &apos;{name}&apos;: tensor {tensor} has a malformed entry or offsets.</source>
        <translation>权重文件“{name}”：张量 {tensor} 的条目或偏移量格式错误。</translation>
    </message>
    <message>
        <source>Port {port} is not a TCP port (1-65535).</source>
        <translation>端口 {port} 不是有效的 TCP 端口（1-65535）。</translation>
    </message>
    <message>
        <source>No host given for the DICOM node.</source>
        <translation>未指定 DICOM 节点的主机。</translation>
    </message>
    <message>
        <source>The timeout must be between 0 and 600 seconds.</source>
        <translation>超时时间必须在 0 到 600 秒之间。</translation>
    </message>
    <message>
        <source>The {what} {aet} must be 1-16 printable ASCII characters (no backslash).</source>
        <translation>{what} {aet} 必须是 1-16 个可打印 ASCII 字符（不含反斜杠）。</translation>
    </message>
    <message>
        <source>AE title</source>
        <translation>AE 名称</translation>
    </message>
    <message>
        <source>called AE title</source>
        <translation>被叫 AE 名称</translation>
    </message>
    <message>
        <source>calling AE title</source>
        <translation>主叫 AE 名称</translation>
    </message>
    <message>
        <source>allowed calling AE title</source>
        <translation>允许的主叫 AE 名称</translation>
    </message>
    <message>
        <source>Cannot connect to {node}: no answer within {s:g} s.</source>
        <translation>无法连接到 {node}：{s:g} 秒内无应答。</translation>
    </message>
    <message>
        <source>Cannot connect to {node}: {why} (is the server running?).</source>
        <translation>无法连接到 {node}：{why}（服务器是否在运行？）。</translation>
    </message>
    <message>
        <source>{node} accepted the connection but gave no DICOM answer within {s:g} s (is it a DICOM port?).</source>
        <translation>{node} 接受了连接，但 {s:g} 秒内没有 DICOM 应答（这是 DICOM 端口吗？）。</translation>
    </message>
    <message>
        <source>{node} rejected the association (check the AE titles on both sides).</source>
        <translation>{node} 拒绝了关联请求（请检查双方的 AE 名称）。</translation>
    </message>
    <message>
        <source>{node} aborted the association.</source>
        <translation>{node} 中止了关联。</translation>
    </message>
    <message>
        <source>Cannot connect to {node} within {s:g} s (is the server running?).</source>
        <translation>{s:g} 秒内无法连接到 {node}（服务器是否在运行？）。</translation>
    </message>
    <message>
        <source>{node} did not confirm the echo.</source>
        <translation>{node} 未确认 Echo 测试。</translation>
    </message>
    <message>
        <source>{path} does not exist.</source>
        <translation>{path} 不存在。</translation>
    </message>
    <message>
        <source>Too many different kinds of DICOM object in one send (at most 120).</source>
        <translation>一次发送中的 DICOM 对象种类过多（最多 120 种）。</translation>
    </message>
    <message>
        <source>{node} did not answer a C-STORE within {s:g} s (DIMSE timeout); {stored} of {total} files stored.</source>
        <translation>{node} 在 {s:g} 秒内未应答 C-STORE（DIMSE 超时）；已存储 {total} 个文件中的 {stored} 个。</translation>
    </message>
    <message>
        <source>{node} stopped answering the query.</source>
        <translation>{node} 在查询中停止了应答。</translation>
    </message>
    <message>
        <source>{node} refused the query (status 0x{code:04X}).</source>
        <translation>{node} 拒绝了查询（状态 0x{code:04X}）。</translation>
    </message>
    <message>
        <source>{node} stopped answering during the retrieve ({kept} files kept).</source>
        <translation>{node} 在检索过程中停止了应答（已保留 {kept} 个文件）。</translation>
    </message>
    <message>
        <source>{node} stopped answering during the move ({kept} files kept).</source>
        <translation>{node} 在传送过程中停止了应答（已保留 {kept} 个文件）。</translation>
    </message>
    <message>
        <source>{node} could not send the study (status 0x{code:04X}).</source>
        <translation>{node} 无法发送该检查（状态 0x{code:04X}）。</translation>
    </message>
    <message>
        <source>{node} refused to move the study to {aet}: register this workstation (AE title {aet}, this host, port {port}) in the PACS, or use C-GET.</source>
        <translation>{node} 拒绝将该检查传送到 {aet}：请在 PACS 中登记本工作站（AE 名称 {aet}、本机主机、端口 {port}），或改用 C-GET。</translation>
    </message>
    <message>
        <source>{bind} is not an IP address to listen on.</source>
        <translation>{bind} 不是可监听的 IP 地址。</translation>
    </message>
    <message>
        <source>Listening on {bind} needs an allow-list of calling AE titles (--allow-aet, or Preferences → Allowed AE titles).</source>
        <translation>在 {bind} 上监听需要主叫 AE 名称白名单（--allow-aet，或 首选项 → 允许的 AE 名称）。</translation>
    </message>
    <message>
        <source>The size cap, free-disk floor and per-peer limit must be positive.</source>
        <translation>大小上限、磁盘剩余空间下限和每个对端的连接上限都必须为正数。</translation>
    </message>
    <message>
        <source>Cannot listen on {bind}:{port} ({why}).</source>
        <translation>无法在 {bind}:{port} 上监听（{why}）。</translation>
    </message>
    <message>
        <source>{folder} already holds 999 versions of {name}; choose another folder.</source>
        <translation>{folder} 中已有 {name} 的 999 个版本；请选择其他文件夹。</translation>
    </message>
    <message>
        <source>The prediction belongs to another contour; predict again before exporting it.</source>
        <translation>该预测属于另一个轮廓；请重新预测后再导出。</translation>
    </message>
    <message>
        <source>The DICOM file&apos;s size differs from the image shown; results cannot reference it.</source>
        <translation>DICOM 文件的尺寸与所显示的图像不同；结果无法引用该文件。</translation>
    </message>
    <message>
        <source>Cannot build the DICOM objects for this image: {detail}</source>
        <translation>无法为此图像生成 DICOM 对象：{detail}</translation>
    </message>
    <message>
        <source>Cannot write to {path}: {why}.</source>
        <translation>无法写入 {path}：{why}。</translation>
    </message>
    <message>
        <source>the connection was refused</source>
        <translation>连接被拒绝</translation>
    </message>
    <message>
        <source>the connection was reset</source>
        <translation>连接被重置</translation>
    </message>
    <message>
        <source>the connection timed out</source>
        <translation>连接超时</translation>
    </message>
    <message>
        <source>the host is unreachable</source>
        <translation>主机不可达</translation>
    </message>
    <message>
        <source>the network is unreachable</source>
        <translation>网络不可达</translation>
    </message>
    <message>
        <source>the port is already in use</source>
        <translation>端口已被占用</translation>
    </message>
    <message>
        <source>the address is not one of this computer&apos;s</source>
        <translation>该地址不属于本机</translation>
    </message>
    <message>
        <source>permission denied</source>
        <translation>权限不足</translation>
    </message>
    <message>
        <source>the host name cannot be resolved</source>
        <translation>无法解析主机名</translation>
    </message>
    <message>
        <source>The segmentation has no segments.</source>
        <translation>该分割对象不含任何分段。</translation>
    </message>
    <message>
        <source>{name} is a DICOM file but not a Segmentation.</source>
        <translation>{name} 是 DICOM 文件，但不是分割对象（Segmentation）。</translation>
    </message>
    <message>
        <source>The segmentation {name} is {seg_w}×{seg_h} pixels but the image is {image_w}×{image_h}.</source>
        <translation>分割对象 {name} 为 {seg_w}×{seg_h} 像素，而图像为 {image_w}×{image_h}。</translation>
    </message>
    <message>
        <source>{name} is a malformed DICOM segmentation ({detail}).</source>
        <translation>{name} 是格式错误的 DICOM 分割对象（{detail}）。</translation>
    </message>
    <message>
        <source>{name} is larger than {mb} MB; not read as a segmentation.</source>
        <translation>{name} 大于 {mb} MB；不作为分割对象读取。</translation>
    </message>
    <message>
        <source>{name} is not a readable DICOM segmentation ({detail}).</source>
        <translation>{name} 不是可读取的 DICOM 分割对象（{detail}）。</translation>
    </message>
    <message>
        <source>The segmentation {name} has {frames} frames; at most {limit} are read.</source>
        <translation>分割对象 {name} 有 {frames} 帧；最多读取 {limit} 帧。</translation>
    </message>
    <message>
        <source>The segmentation {name} declares {frames} frames of {w}×{h} pixels; at most {mpx} M pixels are decoded.</source>
        <translation>分割对象 {name} 声明了 {frames} 帧 {w}×{h} 像素；最多解码 {mpx} M 像素。</translation>
    </message>
    <message>
        <source>{name} has no File Meta group length; not read as a segmentation.</source>
        <translation>{name} 没有 File Meta 组长度；不作为分割对象读取。</translation>
    </message>
    <message>
        <source>{name} inflates to more than {mb} MB; not read as a segmentation.</source>
        <translation>{name} 解压后超过 {mb} MB；不作为分割对象读取。</translation>
    </message>
    <message>
        <source>The segmentation {name} references a DICOM image; open that image (not a PNG/JPEG) to use it.</source>
        <translation>分割对象 {name} 引用的是一幅 DICOM 图像；请打开该图像（而非 PNG/JPEG）后再使用它。</translation>
    </message>
    <message>
        <source>The segmentation {name} was made for another image (its referenced series/instance UIDs do not match this image); not applied.</source>
        <translation>分割对象 {name} 是为另一幅图像制作的（其引用的序列/实例 UID 与本图像不符）；未应用。</translation>
    </message>
    <message>
        <source>{name}: the segmentation&apos;s per-frame information is incomplete.</source>
        <translation>{name}：分割对象的逐帧信息不完整。</translation>
    </message>
    <message>
        <source>{name}: the segmentation&apos;s pixels cannot be decoded ({detail}).</source>
        <translation>{name}：无法解码分割对象的像素（{detail}）。</translation>
    </message>
    <message>
        <source>The segmentation {name} was made for another image.</source>
        <translation>分割对象 {name} 是为另一幅图像制作的。</translation>
    </message>
    <message>
        <source>The tumour segment of {name} is empty.</source>
        <translation>{name} 的肿瘤分段为空。</translation>
    </message>
    <message>
        <source>The fractional segmentation has no valid Maximum Fractional Value.</source>
        <translation>该分数型分割对象没有有效的 Maximum Fractional Value。</translation>
    </message>
    <message>
        <source>&apos;{name}&apos; is a pickle-based checkpoint; DLRS Desktop never loads pickle files (they can run arbitrary code). Export the model as a bundle (safetensors + manifest.json) with the bundle writer.</source>
        <translation>“{name}”是基于 pickle 的检查点；DLRS Desktop 从不加载 pickle 文件（它们可执行任意代码）。请用模型包导出工具将模型导出为模型包（safetensors + manifest.json）。</translation>
    </message>
    <message>
        <source>The model bundle has no file &apos;{name}&apos;.</source>
        <translation>模型包中没有文件“{name}”。</translation>
    </message>
    <message>
        <source>The heads file lacks the tensor {tensor}.</source>
        <translation>输出头文件缺少张量 {tensor}。</translation>
    </message>
    <message>
        <source>The head tensors have shapes {w}/{b}, expected ({r}, {k})/({r},).</source>
        <translation>输出头张量的形状为 {w}/{b}，应为 ({r}, {k})/({r},)。</translation>
    </message>
    <message>
        <source>The model bundle is incomplete: file &apos;{name}&apos; listed in the manifest is missing.</source>
        <translation>模型包不完整：清单中列出的文件“{name}”缺失。</translation>
    </message>
    <message>
        <source>&apos;{root}&apos; is not a model bundle: it has no {manifest}.</source>
        <translation>“{root}”不是模型包：其中没有 {manifest}。</translation>
    </message>
    <message>
        <source>&apos;{name}&apos; is not a readable model bundle zip ({detail}).</source>
        <translation>“{name}”不是可读取的模型包 zip（{detail}）。</translation>
    </message>
    <message>
        <source>&apos;{name}&apos; holds an unsafe path {path}; refusing it.</source>
        <translation>“{name}”含有不安全的路径 {path}；已拒绝。</translation>
    </message>
    <message>
        <source>The bundled demonstration model is not installed (expected in {root}); pass a model bundle with --model.</source>
        <translation>随附的演示模型未安装（应位于 {root}）；请用 --model 指定模型包。</translation>
    </message>
    <message>
        <source>No model bundle at &apos;{root}&apos;.</source>
        <translation>“{root}”处没有模型包。</translation>
    </message>
    <message>
        <source>&apos;{name}&apos; is not a model bundle (expected a folder or a .zip).</source>
        <translation>“{name}”不是模型包（应为文件夹或 .zip）。</translation>
    </message>
    <message>
        <source>manifest.json must hold a JSON object.</source>
        <translation>manifest.json 必须包含一个 JSON 对象。</translation>
    </message>
    <message>
        <source>manifest.json is not a DLRS model bundle (field &apos;schema&apos; must be {schema}).</source>
        <translation>manifest.json 不属于 DLRS 模型包（字段“schema”必须为 {schema}）。</translation>
    </message>
    <message>
        <source>Unknown bundle schema version {version} (this version of DLRS Desktop reads {supported}); update the application or re-export the model.</source>
        <translation>未知的模型包格式版本 {version}（此版本的 DLRS Desktop 可读取 {supported}）；请更新本程序或重新导出模型。</translation>
    </message>
    <message>
        <source>The contour points must be pairs of numbers (x, y).</source>
        <translation>轮廓点必须是成对的数字 (x, y)。</translation>
    </message>
    <message>
        <source>The contour has points with missing, infinite or absurdly large coordinates.</source>
        <translation>轮廓中有坐标缺失、为无穷大或大得离谱的点。</translation>
    </message>
    <message>
        <source>The contour has {count:,} points, over the limit of {limit:,} that are read (contours are simplified to at most {kept:,}).</source>
        <translation>轮廓有 {count:,} 个点，超过可读取的上限 {limit:,}（轮廓最多简化为 {kept:,} 个点）。</translation>
    </message>
    <message>
        <source>The contour has {count:,} points and still {simple:,} after simplification, over the limit of {limit:,} points.</source>
        <translation>轮廓有 {count:,} 个点，简化后仍有 {simple:,} 个，超过 {limit:,} 个点的上限。</translation>
    </message>
    <message>
        <source>The contour&apos;s frame must be a whole number, not {value}.</source>
        <translation>轮廓的帧号必须是整数，而不是 {value}。</translation>
    </message>
    <message>
        <source>The contour&apos;s frame {value} is not a frame index (0 to {last}).</source>
        <translation>轮廓的帧号 {value} 不是有效的帧序号（0 到 {last}）。</translation>
    </message>
    <message>
        <source>The resampling spacing must be a positive number of millimetres.</source>
        <translation>重采样间距必须是正的毫米数。</translation>
    </message>
    <message>
        <source>Shrinking the contour by {mm:g} mm leaves nothing of the tumour.</source>
        <translation>将轮廓内缩 {mm:g} mm 后肿瘤将不复存在。</translation>
    </message>
    <message>
        <source>The contour has no calibration (mm per pixel); cannot {why}.</source>
        <translation>该轮廓没有校准（每像素毫米数）；无法{why}。</translation>
    </message>
    <message>
        <source>resample the contour in millimetres</source>
        <translation>按毫米对轮廓重采样</translation>
    </message>
    <message>
        <source>offset the contour in millimetres</source>
        <translation>按毫米偏移轮廓</translation>
    </message>
    <message>
        <source>The contour has no calibration (mm per pixel), so it cannot be measured.</source>
        <translation>该轮廓没有校准（每像素毫米数），因此无法测量。</translation>
    </message>
    <message>
        <source>A tumour mask must be a single-channel image.</source>
        <translation>肿瘤掩膜必须是单通道图像。</translation>
    </message>
    <message>
        <source>The tumour mask is empty (no non-zero pixels).</source>
        <translation>肿瘤掩膜为空（没有非零像素）。</translation>
    </message>
    <message>
        <source>The mask {name} is {mask_w}×{mask_h} pixels but the image is {image_w}×{image_h}; they must match.</source>
        <translation>掩膜 {name} 为 {mask_w}×{mask_h} 像素，而图像为 {image_w}×{image_h}；两者必须一致。</translation>
    </message>
    <message>
        <source>{name}: JPEG blurs mask edges; export the tumour mask as PNG (non-zero = tumour).</source>
        <translation>{name}：JPEG 会使掩膜边缘模糊；请将肿瘤掩膜导出为 PNG（非零 = 肿瘤）。</translation>
    </message>
    <message>
        <source>The mask {name} is {w} x {h} pixels, over the limit of {megapixels} megapixels.</source>
        <translation>掩膜 {name} 为 {w} x {h} 像素，超过 {megapixels} 百万像素的上限。</translation>
    </message>
    <message>
        <source>The mask {name} is over the limit of {megapixels} megapixels.</source>
        <translation>掩膜 {name} 超过 {megapixels} 百万像素的上限。</translation>
    </message>
    <message>
        <source>Mask file not found: {path}</source>
        <translation>未找到掩膜文件：{path}</translation>
    </message>
    <message>
        <source>{name} is not a readable mask image ({detail}).</source>
        <translation>{name} 不是可读取的掩膜图像（{detail}）。</translation>
    </message>
    <message>
        <source>{name} is not a single 2D mask.</source>
        <translation>{name} 不是单个二维掩膜。</translation>
    </message>
    <message>
        <source>This is not a contour: it has no list of points.</source>
        <translation>这不是轮廓：其中没有点列表。</translation>
    </message>
    <message>
        <source>This file holds a &apos;{schema}&apos;, not a tumour contour.</source>
        <translation>此文件包含的是“{schema}”，而不是肿瘤轮廓。</translation>
    </message>
    <message>
        <source>This contour file uses format version {version}; this version of DLRS Desktop reads up to version {supported}. Please update the application.</source>
        <translation>此轮廓文件使用格式版本 {version}；此版本的 DLRS Desktop 最高只能读取版本 {supported}。请更新本程序。</translation>
    </message>
    <message>
        <source>The contour&apos;s calibration is malformed ({detail}).</source>
        <translation>轮廓的校准格式错误（{detail}）。</translation>
    </message>
    <message>
        <source>Contour file not found: {path}</source>
        <translation>未找到轮廓文件：{path}</translation>
    </message>
    <message>
        <source>{name} is not a readable contour file ({detail}).</source>
        <translation>{name} 不是可读取的轮廓文件（{detail}）。</translation>
    </message>
    <message>
        <source>{name} is not a readable contour JSON file (not UTF-8 text).</source>
        <translation>{name} 不是可读取的轮廓 JSON 文件（不是 UTF-8 文本）。</translation>
    </message>
    <message>
        <source>{name} is not a readable contour JSON file: {detail}</source>
        <translation>{name} 不是可读取的轮廓 JSON 文件：{detail}</translation>
    </message>
    <message>
        <source>{name} holds no contour (expected a &apos;points&apos; list or a &apos;contour&apos; object).</source>
        <translation>{name} 中没有轮廓（应包含“points”列表或“contour”对象）。</translation>
    </message>
    <message>
        <source>{name} is not a labelme file: its &apos;shapes&apos; is not a list.</source>
        <translation>{name} 不是 labelme 文件：其“shapes”不是列表。</translation>
    </message>
    <message>
        <source>{name}: a labelme polygon is malformed ({detail})</source>
        <translation>{name}：某个 labelme 多边形格式错误（{detail}）</translation>
    </message>
    <message>
        <source>{name} is a labelme file without any polygon.</source>
        <translation>{name} 是不含任何多边形的 labelme 文件。</translation>
    </message>
    <message>
        <source>Ring radii must be positive numbers of millimetres.</source>
        <translation>瘤周环半径必须是正的毫米数。</translation>
    </message>
    <message>
        <source>At most {most} rings of at most {widest:g} mm are computed (asked: {count} rings up to {asked:g} mm).</source>
        <translation>最多计算 {most} 个瘤周环，每个最宽 {widest:g} mm（所请求：{count} 个环，最宽 {asked:g} mm）。</translation>
    </message>
    <message>
        <source>The clip threshold must be a fraction between 0 and 1.</source>
        <translation>裁剪阈值必须是 0 到 1 之间的比例。</translation>
    </message>
    <message>
        <source>The image has no calibration (mm per pixel), so the rings cannot be drawn in millimetres; calibrate the image first.</source>
        <translation>图像没有校准（每像素毫米数），因此无法按毫米绘制瘤周环；请先校准图像。</translation>
    </message>
    <message>
        <source>The contour is too thin to contain any pixel.</source>
        <translation>轮廓过细，不包含任何像素。</translation>
    </message>
    <message>
        <source>This image has no trustworthy millimetre calibration, so its lesion size is not measured; give one with --spacing MM_PER_PX or calibrate it in the application.</source>
        <translation>此图像没有可信的毫米校准，因此未测量病灶大小；请用 --spacing MM_PER_PX 指定，或在本程序中校准。</translation>
    </message>
    <message>
        <source>The {name} is not a usable measurement ({value}).</source>
        <translation>{name}不是可用的测量值（{value}）。</translation>
    </message>
    <message>
        <source>longest diameter</source>
        <translation>最长径</translation>
    </message>
    <message>
        <source>perpendicular diameter</source>
        <translation>垂直径</translation>
    </message>
    <message>
        <source>baseline diameter</source>
        <translation>基线直径</translation>
    </message>
    <message>
        <source>follow-up diameter</source>
        <translation>随访直径</translation>
    </message>
    <message>
        <source>nadir diameter</source>
        <translation>最低点直径</translation>
    </message>
    <message>
        <source>The perpendicular diameter exceeds the longest one.</source>
        <translation>垂直径超过了最长径。</translation>
    </message>
    <message>
        <source>The regions of interest lie outside the image.</source>
        <translation>感兴趣区位于图像之外。</translation>
    </message>
    <message>
        <source>This image has no trustworthy millimetre calibration for the tumour&apos;s area; calibrate it (e.g. along the depth ruler) before predicting.</source>
        <translation>此图像在肿瘤所在区域没有可信的毫米校准；请先校准（例如沿深度标尺）再预测。</translation>
    </message>
    <message>
        <source>This image has no trustworthy millimetre calibration; calibrate it first.</source>
        <translation>此图像没有可信的毫米校准；请先校准。</translation>
    </message>
</context>
<context>
    <name>dicom_actions</name>
    <message>
        <source>Patient ID for the Secondary Capture (empty: ANONYMOUS):</source>
        <translation>二次采集（Secondary Capture）的患者 ID（留空：ANONYMOUS）：</translation>
    </message>
    <message>
        <source>DICOM export</source>
        <translation>DICOM 导出</translation>
    </message>
    <message>
        <source>Patient name, Family^Given (empty: Anonymous^Patient):</source>
        <translation>患者姓名，格式 姓^名（留空：Anonymous^Patient）：</translation>
    </message>
    <message>
        <source>SEG, SR with the probability, PDF</source>
        <translation>SEG、含概率的 SR、PDF</translation>
    </message>
    <message>
        <source>SEG, SR with measurements only (no current prediction: press Predict to include it), PDF</source>
        <translation>SEG、仅含测量值的 SR（当前无有效预测：点击“预测”后可包含概率）、PDF</translation>
    </message>
    <message>
        <source>Open an image and draw the tumour contour before exporting to DICOM.</source>
        <translation>导出 DICOM 前，请先打开图像并勾画肿瘤轮廓。</translation>
    </message>
    <message>
        <source>The contour cannot be measured (no calibration?).</source>
        <translation>无法测量该轮廓（未校准？）。</translation>
    </message>
</context>
<context>
    <name>document</name>
    <message>
        <source>{px} px (not calibrated)</source>
        <translation>{px} 像素（未校准）</translation>
    </message>
</context>
<context>
    <name>domain_text</name>
    <message>
        <source>no domain reference in this bundle</source>
        <translation>此模型包中没有训练范围参考</translation>
    </message>
    <message>
        <source>inside the training domain</source>
        <translation>在训练范围内</translation>
    </message>
    <message>
        <source>unusual for this model</source>
        <translation>对此模型而言不常见</translation>
    </message>
    <message>
        <source>outside the training domain</source>
        <translation>超出训练范围</translation>
    </message>
    <message>
        <source>not checked</source>
        <translation>未检查</translation>
    </message>
    <message>
        <source>inside</source>
        <translation>范围内</translation>
    </message>
    <message>
        <source>unusual</source>
        <translation>不常见</translation>
    </message>
    <message>
        <source>outside</source>
        <translation>超出范围</translation>
    </message>
    <message>
        <source>either (uncertain)</source>
        <translation>两者皆有可能（不确定）</translation>
    </message>
    <message>
        <source>intratumoral</source>
        <extracomment>check names that appear inside a reason: the default regions and their radiomics signatures</extracomment>
        <translation>瘤内</translation>
    </message>
    <message>
        <source>ring_3mm</source>
        <translation>3 mm 瘤周环</translation>
    </message>
    <message>
        <source>ring_5mm</source>
        <translation>5 mm 瘤周环</translation>
    </message>
    <message>
        <source>ring_10mm</source>
        <translation>10 mm 瘤周环</translation>
    </message>
    <message>
        <source>radiomics_ring_3mm</source>
        <translation>影像组学（瘤内 + 3 mm）</translation>
    </message>
    <message>
        <source>radiomics_ring_5mm</source>
        <translation>影像组学（瘤内 + 5 mm）</translation>
    </message>
    <message>
        <source>radiomics_ring_10mm</source>
        <translation>影像组学（瘤内 + 10 mm）</translation>
    </message>
    <message>
        <source>radiomics_all</source>
        <translation>影像组学（全部）</translation>
    </message>
    <message>
        <source>Prediction set at {coverage} coverage: {classes}</source>
        <translation>{coverage} 覆盖率下的预测集：{classes}</translation>
    </message>
    <message>
        <source>Domain: {reason}</source>
        <translation>训练范围：{reason}</translation>
    </message>
    <message>
        <source>Domain: {status} (score {score}; unusual above {unusual}, outside above {outside}) — {reason}</source>
        <translation>训练范围：{status}（评分 {score}；高于 {unusual} 为不常见，高于 {outside} 为超出范围）— {reason}</translation>
    </message>
    <message>
        <source>No result: {reason}</source>
        <translation>无结果：{reason}</translation>
    </message>
    <message>
        <source>Caution — {reason}</source>
        <translation>注意 — {reason}</translation>
    </message>
    <message>
        <source>{text} (threshold {threshold})</source>
        <translation>{text}（阈值 {threshold}）</translation>
    </message>
    <message>
        <source>{classes} — {coverage} prediction set · at the threshold: {category}</source>
        <translation>{classes} — {coverage} 预测集 · 按阈值：{category}</translation>
    </message>
    <message>
        <source>Contour: {text}</source>
        <translation>轮廓：{text}</translation>
    </message>
    <message>
        <source>mean grey level of the scan area</source>
        <extracomment>kinds where only a large value is unusual (a distance, a confidence, a synthetic-likeness) Image-level statistics: name → (plain words, smallest robust SD used, so a constant training value still gives a finite z). Grey levels are 0–255 inside the scan area.</extracomment>
        <translation>扫描区域的平均灰度</translation>
    </message>
    <message>
        <source>grey-level spread of the scan area</source>
        <translation>扫描区域的灰度离散度</translation>
    </message>
    <message>
        <source>10th grey-level percentile of the scan area</source>
        <translation>扫描区域灰度的第 10 百分位数</translation>
    </message>
    <message>
        <source>median grey level of the scan area</source>
        <translation>扫描区域的灰度中位数</translation>
    </message>
    <message>
        <source>90th grey-level percentile of the scan area</source>
        <translation>扫描区域灰度的第 90 百分位数</translation>
    </message>
    <message>
        <source>pixel spacing (mm/px)</source>
        <translation>像素间距（mm/像素）</translation>
    </message>
    <message>
        <source>lesion area (mm²)</source>
        <translation>病灶面积（mm²）</translation>
    </message>
    <message>
        <source>lesion depth below the top of the scan area (mm)</source>
        <translation>病灶距扫描区域顶端的深度（mm）</translation>
    </message>
    <message>
        <source>lesion depth-to-width ratio</source>
        <translation>病灶纵横比（深度/宽度）</translation>
    </message>
    <message>
        <source>fraction of coloured pixels in the scan area</source>
        <translation>扫描区域中彩色像素的比例</translation>
    </message>
    <message>
        <source>speckle contrast around the lesion (local SD / local mean)</source>
        <translation>病灶周围的斑点对比度（局部标准差/局部均值）</translation>
    </message>
    <message>
        <source>edge strength around the lesion (mean gradient / mean grey level)</source>
        <translation>病灶周围的边缘强度（平均梯度/平均灰度）</translation>
    </message>
    <message>
        <source>this image is unlike the images this model was trained on: {why}</source>
        <extracomment>the default coverage of conformal prediction sets The reasons, as templates (translated at display time: domain_text.reason_of reads them back). One string literal each, so that the catalogue tool (lupdate) sees the whole of it.</extracomment>
        <translation>此图像与该模型的训练图像不同：{why}</translation>
    </message>
    <message>
        <source>this image is unusual for this model: {why}</source>
        <translation>此图像对该模型而言不常见：{why}</translation>
    </message>
    <message>
        <source>the network&apos;s features of the {name} region are far from the training images&apos; ({value}; training range {low} to {high})</source>
        <translation>{name}区域的网络特征远离训练图像的特征（{value}；训练范围 {low} 至 {high}）</translation>
    </message>
    <message>
        <source>the model is unusually confident for its training data (energy {value}; training range {low} to {high})</source>
        <translation>相对于其训练数据，模型的置信度异常高（能量 {value}；训练范围 {low} 至 {high}）</translation>
    </message>
    <message>
        <source>the {name} logit {value} lies outside what training produced (training range {low} to {high})</source>
        <translation>{name}的对数几率 {value} 超出训练时产生的范围（训练范围 {low} 至 {high}）</translation>
    </message>
    <message>
        <source>its speckle texture looks simulated (like the application&apos;s synthetic scans or a speckle phantom) rather than like a real scan (synthetic-likeness {value}; training range {low} to {high})</source>
        <translation>其斑点纹理看起来像模拟图像（如本软件的合成扫描或斑点体模），而非真实扫描（模拟相似度 {value}；训练范围 {low} 至 {high}）</translation>
    </message>
    <message>
        <source>the speckle texture around the lesion is unlike the training images&apos; (distance {value}; training range {low} to {high})</source>
        <translation>病灶周围的斑点纹理与训练图像不同（距离 {value}；训练范围 {low} 至 {high}）</translation>
    </message>
    <message>
        <source>the {name} is {value} (training range {low} to {high})</source>
        <translation>{name}为 {value}（训练范围 {low} 至 {high}）</translation>
    </message>
    <message>
        <source>within the range of the model&apos;s training images</source>
        <translation>在模型训练图像的范围内</translation>
    </message>
    <message>
        <source>its DICOM header gives the modality {value}; this model was trained on ultrasound (US)</source>
        <extracomment>The reasons (completing domain.REASON_OUTSIDE), as templates read back by domain_text.</extracomment>
        <translation>其 DICOM 头信息标明的模态为 {value}；此模型以超声（US）图像训练</translation>
    </message>
    <message>
        <source>its DICOM header gives the body part {value}; this model was trained on {name} images</source>
        <translation>其 DICOM 头信息标明的检查部位为 {value}；此模型以{name}图像训练</translation>
    </message>
    <message>
        <source>its DICOM study or series description names {value}; this model was trained on {name} images</source>
        <translation>其 DICOM 检查或序列描述提到 {value}；此模型以{name}图像训练</translation>
    </message>
    <message>
        <source>breast</source>
        <extracomment>The declared body parts&apos; words (a template&apos;s {name} is translated at display time).</extracomment>
        <translation>乳腺</translation>
    </message>
</context>
<context>
    <name>editing</name>
    <message>
        <source>{tool}: {tip}</source>
        <translation>{tool}：{tip}</translation>
    </message>
    <message>
        <source>A contour is being drawn and is not finished. Discard it?</source>
        <translation>有一个轮廓正在勾画且未完成。是否放弃？</translation>
    </message>
    <message>
        <source>Calibrate from depth scale</source>
        <translation>根据深度标尺校准</translation>
    </message>
    <message>
        <source>its ultrasound regions</source>
        <translation>其超声区域</translation>
    </message>
    <message>
        <source>This image carries the scanner&apos;s own scale ({scale}); it wins over the depth scale.</source>
        <translation>该图像带有扫描仪自身的比例尺（{scale}）；其优先于深度标尺。</translation>
    </message>
    <message>
        <source>{count} ticks</source>
        <translation>{count} 个刻度</translation>
    </message>
    <message>
        <source>Read the {summary}.
Why {tick} mm a tick: {rule}.
Tick rows: {rows}.

The tick column is marked on the image. Use this calibration?</source>
        <translation>已读取{summary}。
每个刻度为 {tick} mm 的依据：{rule}。
刻度所在行：{rows}。

刻度列已在图像上标出。是否使用此校准？</translation>
    </message>
    <message>
        <source>Reviewer name (saved in Preferences):</source>
        <translation>审阅者姓名（保存在首选项中）：</translation>
    </message>
</context>
<context>
    <name>errors</name>
    <message>
        <source>There is no contour to mark as reviewed.</source>
        <translation>没有可标记为已审阅的轮廓。</translation>
    </message>
    <message>
        <source>The contour needs at least 3 points.</source>
        <translation>轮廓至少需要 3 个点。</translation>
    </message>
    <message>
        <source>No image is open.</source>
        <translation>未打开图像。</translation>
    </message>
    <message>
        <source>This annotation belongs to a different image and was not applied.</source>
        <translation>此标注属于另一张图像，未予应用。</translation>
    </message>
</context>
<context>
    <name>exports</name>
    <message>
        <source>The contour sensitivity of this result is still being computed; export again in a moment.</source>
        <translation>此结果的轮廓敏感性仍在计算中，请稍后再导出。</translation>
    </message>
    <message>
        <source>Open an image before exporting a report.</source>
        <translation>导出报告前请先打开图像。</translation>
    </message>
    <message>
        <source>Export PDF report</source>
        <translation>导出 PDF 报告</translation>
    </message>
    <message>
        <source>PDF (*.pdf)</source>
        <translation>PDF (*.pdf)</translation>
    </message>
    <message>
        <source>The report could not be written: {error}</source>
        <translation>无法写入报告：{error}</translation>
    </message>
    <message>
        <source>Report written (with patient identifiers): {path}</source>
        <translation>报告已写入（含患者身份信息）：{path}</translation>
    </message>
    <message>
        <source>Report written (without patient identifiers): {path}</source>
        <translation>报告已写入（不含患者身份信息）：{path}</translation>
    </message>
    <message>
        <source>Draw a contour on a calibrated image first.</source>
        <translation>请先在已校准的图像上勾画轮廓。</translation>
    </message>
    <message>
        <source>Export masks to folder</source>
        <translation>将掩膜导出到文件夹</translation>
    </message>
    <message>
        <source>The masks could not be written: {error}</source>
        <translation>无法写入掩膜：{error}</translation>
    </message>
    <message>
        <source>{count} masks written to {folder}</source>
        <translation>已将 {count} 个掩膜写入 {folder}</translation>
    </message>
    <message>
        <source>Open an image first.</source>
        <translation>请先打开图像。</translation>
    </message>
    <message>
        <source>Export annotation</source>
        <translation>导出标注</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <source>The annotation could not be written: {error}</source>
        <translation>无法写入标注：{error}</translation>
    </message>
    <message>
        <source>Annotation written: {path}</source>
        <translation>标注已写入：{path}</translation>
    </message>
</context>
<context>
    <name>files</name>
    <message>
        <source>Cannot open &apos;{name}&apos;: {error}</source>
        <translation>无法打开“{name}”：{error}</translation>
    </message>
</context>
<context>
    <name>measurements</name>
    <message>
        <source>No image</source>
        <translation>无图像</translation>
    </message>
    <message>
        <source>Tumour</source>
        <translation>肿瘤</translation>
    </message>
    <message>
        <source>Area</source>
        <translation>面积</translation>
    </message>
    <message>
        <source>Longest diameter</source>
        <translation>最长径</translation>
    </message>
    <message>
        <source>Perpendicular</source>
        <translation>垂直径</translation>
    </message>
    <message>
        <source>Perimeter</source>
        <translation>周长</translation>
    </message>
    <message>
        <source>Peritumoral rings</source>
        <translation>瘤周环</translation>
    </message>
    <message>
        <source>Ring</source>
        <translation>环</translation>
    </message>
    <message>
        <source>Area mm²</source>
        <translation>面积 mm²</translation>
    </message>
    <message>
        <source>Outside scan</source>
        <translation>超出扫描区</translation>
    </message>
    <message>
        <source>⚠ {rings} leave the scan area too much: the prediction relies on less tissue.</source>
        <translation>⚠ {rings} 超出扫描区域过多：预测所依据的组织较少。</translation>
    </message>
    <message>
        <source>, </source>
        <translation>、</translation>
    </message>
</context>
<context>
    <name>menus</name>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Open image…</source>
        <translation>打开图像(&amp;O)…</translation>
    </message>
    <message>
        <source>Open &amp;folder as worklist…</source>
        <translation>将文件夹作为工作列表打开(&amp;F)…</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <source>Open &amp;demo case</source>
        <translation>打开演示病例(&amp;D)</translation>
    </message>
    <message>
        <source>Reset &amp;demo (bundled contour, no earlier edits)</source>
        <translation>重置演示(&amp;D)（随附轮廓，不含先前编辑）</translation>
    </message>
    <message>
        <source>&amp;Import contour…</source>
        <translation>导入轮廓(&amp;I)…</translation>
    </message>
    <message>
        <source>&amp;Save now (autosave is on)</source>
        <translation>立即保存(&amp;S)（自动保存已开启）</translation>
    </message>
    <message>
        <source>Export &amp;PDF report…</source>
        <translation>导出 PDF 报告(&amp;P)…</translation>
    </message>
    <message>
        <source>Export &amp;masks (PNG)…</source>
        <translation>导出掩膜(&amp;M)（PNG）…</translation>
    </message>
    <message>
        <source>Export annotation &amp;JSON…</source>
        <translation>导出标注 JSON(&amp;J)…</translation>
    </message>
    <message>
        <source>Pr&amp;eferences…</source>
        <translation>首选项(&amp;E)…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Undo</source>
        <translation>撤销(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Redo</source>
        <translation>重做(&amp;R)</translation>
    </message>
    <message>
        <source>S&amp;mooth contour</source>
        <translation>平滑轮廓(&amp;M)</translation>
    </message>
    <message>
        <source>Snap contour to &amp;edges</source>
        <translation>轮廓贴合边缘(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Clear contour</source>
        <translation>清除轮廓(&amp;C)</translation>
    </message>
    <message>
        <source>Use the file&apos;s calibration</source>
        <translation>使用文件自带的校准</translation>
    </message>
    <message>
        <source>&amp;Tools</source>
        <translation>工具(&amp;T)</translation>
    </message>
    <message>
        <source>Tools</source>
        <translation>工具</translation>
    </message>
    <message>
        <source>{tool} ({key}): {tip}</source>
        <translation>{tool}（{key}）：{tip}</translation>
    </message>
    <message>
        <source>Calibrate from &amp;depth scale…</source>
        <translation>根据深度标尺校准(&amp;D)…</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <source>Redo</source>
        <translation>重做</translation>
    </message>
    <message>
        <source>Smooth</source>
        <translation>平滑</translation>
    </message>
    <message>
        <source>Snap</source>
        <translation>贴合</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>Zoom &amp;in (about the view centre)</source>
        <translation>放大(&amp;I)（以视图中心）</translation>
    </message>
    <message>
        <source>Zoom &amp;out</source>
        <translation>缩小(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Fit to window</source>
        <translation>适应窗口(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;1:1 (one image pixel per screen pixel)</source>
        <translation>&amp;1:1（一个图像像素对应一个屏幕像素）</translation>
    </message>
    <message>
        <source>&amp;Reset brightness/contrast</source>
        <translation>复位亮度/对比度(&amp;R)</translation>
    </message>
    <message>
        <source>Show scan area outline</source>
        <translation>显示扫描区域轮廓</translation>
    </message>
    <message>
        <source>&amp;Next image</source>
        <translation>下一张图像(&amp;N)</translation>
    </message>
    <message>
        <source>&amp;Previous image</source>
        <translation>上一张图像(&amp;P)</translation>
    </message>
    <message>
        <source>Next frame</source>
        <translation>下一帧</translation>
    </message>
    <message>
        <source>Previous frame</source>
        <translation>上一帧</translation>
    </message>
    <message>
        <source>Play/pause cine</source>
        <translation>播放/暂停动态图像</translation>
    </message>
    <message>
        <source>&amp;Model</source>
        <translation>模型(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Predict</source>
        <translation>预测(&amp;P)</translation>
    </message>
    <message>
        <source>Mark contour &amp;reviewed</source>
        <translation>标记轮廓为已审阅(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;Keyboard shortcuts and tools</source>
        <translation>键盘快捷键与工具(&amp;K)</translation>
    </message>
    <message>
        <source>&amp;About DLRS Desktop and the model</source>
        <translation>关于 DLRS Desktop 及模型(&amp;A)</translation>
    </message>
    <message>
        <source>Show {region}</source>
        <extracomment>View-menu keys of the ring toggles, in ring order (Alt+4 stays the scan-area outline, as documented).</extracomment>
        <translation>显示 {region}</translation>
    </message>
</context>
<context>
    <name>model_menu</name>
    <message>
        <source>{words} ({centres})</source>
        <translation>{words}（{centres}）</translation>
    </message>
    <message>
        <source>{outcome} — {source}</source>
        <translation>{outcome} — {source}</translation>
    </message>
    <message>
        <source>&amp;Open model bundle…</source>
        <translation>打开模型包(&amp;O)…</translation>
    </message>
    <message>
        <source>Open model bundle</source>
        <translation>打开模型包</translation>
    </message>
    <message>
        <source>Choose a model bundle folder (the one holding manifest.json).</source>
        <translation>请选择模型包文件夹（包含 manifest.json 的文件夹）。</translation>
    </message>
    <message>
        <source>The model bundle could not be loaded: {reason}

The model in use stays: {name} {version}.</source>
        <translation>无法加载该模型包：{reason}

继续使用当前模型：{name} {version}。</translation>
    </message>
    <message>
        <source>Model not changed</source>
        <translation>模型未更改</translation>
    </message>
    <message>
        <source>The model chosen last time ({chosen}) could not be loaded: {reason}

DLRS Desktop uses the bundled demonstration model instead; choose another model in the Model menu.</source>
        <translation>上次选择的模型（{chosen}）无法加载：{reason}

DLRS Desktop 改用随附的演示模型；请在“模型”菜单中选择其他模型。</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>The model bundle could not be loaded: {reason}</source>
        <translation>无法加载该模型包：{reason}</translation>
    </message>
</context>
<context>
    <name>notice</name>
    <message>
        <source>Research use only — demonstration model {id} {version}, trained on synthetic data.</source>
        <extracomment>The research notice a bundle states (model/bundle.py `research_notice`), one template per kind.</extracomment>
        <translation>仅供研究使用 — 演示模型 {id} {version}，基于合成数据训练。</translation>
    </message>
    <message>
        <source>Research use only — demonstration model {id} {version}, trained on real patient data.</source>
        <translation>仅供研究使用 — 演示模型 {id} {version}，基于真实患者数据训练。</translation>
    </message>
    <message>
        <source>Research use only — model {id} {version}, trained on synthetic data.</source>
        <translation>仅供研究使用 — 模型 {id} {version}，基于合成数据训练。</translation>
    </message>
    <message>
        <source>Research use only — model {id} {version}, trained on real patient data.</source>
        <translation>仅供研究使用 — 模型 {id} {version}，基于真实患者数据训练。</translation>
    </message>
    <message>
        <source>unsigned model</source>
        <extracomment>The refusal of a bundle no trusted key signed (bundle_signature.refusal): the GUI asks its own question, so only the reason is shown, in the interface language (the CLI&apos;s advice stays in the CLI).</extracomment>
        <translation>未签名模型</translation>
    </message>
    <message>
        <source>unsigned model (signed by an untrusted key {key})</source>
        <translation>未签名模型（由不受信任的密钥 {key} 签名）</translation>
    </message>
    <message>
        <source>unsigned model (its signature does not match: {reason})</source>
        <translation>未签名模型（签名不匹配：{reason}）</translation>
    </message>
    <message>
        <source>Not signed by a trusted key ({note}): nothing vouches for its numbers.</source>
        <translation>未经受信任的密钥签名（{note}）：其数值的可靠性无从保证。</translation>
    </message>
</context>
<context>
    <name>outcome</name>
    <message>
        <source>early response to neoadjuvant chemotherapy</source>
        <extracomment>The bundled demonstration model&apos;s outcome, and what an older manifest&apos;s missing fields read as.</extracomment>
        <translation>新辅助化疗早期反应</translation>
    </message>
    <message>
        <source>early response</source>
        <translation>早期反应</translation>
    </message>
    <message>
        <source>likely early responder</source>
        <translation>可能为早期反应者</translation>
    </message>
    <message>
        <source>likely non-responder</source>
        <translation>可能为无反应者</translation>
    </message>
    <message>
        <source>early responder</source>
        <translation>早期反应者</translation>
    </message>
    <message>
        <source>non-responder</source>
        <translation>无反应者</translation>
    </message>
    <message>
        <source>malignancy of a breast lesion</source>
        <extracomment>The intended use the early-response bundles were written with (`write_bundle`&apos;s default). Ready-made outcomes for `dlrs train --outcome` and `dlrs model set-outcome --outcome`.</extracomment>
        <translation>乳腺病灶恶性</translation>
    </message>
    <message>
        <source>malignancy</source>
        <translation>恶性</translation>
    </message>
    <message>
        <source>likely malignant</source>
        <translation>可能为恶性</translation>
    </message>
    <message>
        <source>likely benign</source>
        <translation>可能为良性</translation>
    </message>
    <message>
        <source>malignant</source>
        <translation>恶性</translation>
    </message>
    <message>
        <source>benign</source>
        <translation>良性</translation>
    </message>
    <message>
        <source>probability of {short_name}</source>
        <translation>{short_name}概率</translation>
    </message>
    <message>
        <source>Explanation map: orange = evidence for {short_name}, blue = against; stronger = more opaque</source>
        <translation>解释图：橙色 = 支持{short_name}的证据，蓝色 = 反对；越不透明越强</translation>
    </message>
</context>
<context>
    <name>pacs_browser</name>
    <message>
        <source>Patient ID</source>
        <translation>患者 ID</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>日期</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>描述</translation>
    </message>
    <message>
        <source>Modalities</source>
        <translation>模态</translation>
    </message>
    <message>
        <source>Objects</source>
        <translation>对象数</translation>
    </message>
    <message>
        <source>Query/retrieve from PACS</source>
        <translation>从 PACS 查询/检索</translation>
    </message>
    <message>
        <source>e.g. DOE^J* (wildcards allowed)</source>
        <translation>例如 DOE^J*（可使用通配符）</translation>
    </message>
    <message>
        <source>YYYYMMDD or YYYYMMDD-YYYYMMDD</source>
        <translation>YYYYMMDD 或 YYYYMMDD-YYYYMMDD</translation>
    </message>
    <message>
        <source>Patient ID:</source>
        <translation>患者 ID：</translation>
    </message>
    <message>
        <source>Patient name:</source>
        <translation>患者姓名：</translation>
    </message>
    <message>
        <source>Study date:</source>
        <translation>检查日期：</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>搜索</translation>
    </message>
    <message>
        <source>Retrieve and open</source>
        <translation>检索并打开</translation>
    </message>
    <message>
        <source>no PACS configured (Preferences)</source>
        <translation>未配置 PACS（首选项）</translation>
    </message>
    <message>
        <source>PACS: {node}</source>
        <translation>PACS：{node}</translation>
    </message>
    <message>
        <source>Searching {node}…</source>
        <translation>正在搜索 {node}…</translation>
    </message>
    <message>
        <source>Retrieving {study} into {folder}…</source>
        <translation>正在将 {study} 检索到 {folder}…</translation>
    </message>
    <message>
        <source>The receive port in Preferences is not a number.</source>
        <translation>首选项中的接收端口不是数字。</translation>
    </message>
    <message>
        <source>{count} study found.</source>
        <translation>找到 {count} 项检查。</translation>
    </message>
    <message>
        <source>{count} studies found.</source>
        <translation>找到 {count} 项检查。</translation>
    </message>
    <message>
        <source>Retrieved {count} objects into {folder}.</source>
        <translation>已将 {count} 个对象检索到 {folder}。</translation>
    </message>
    <message>
        <source>Contour taken from the study&apos;s segmentation {name}.</source>
        <translation>轮廓取自该检查的分割对象 {name}。</translation>
    </message>
    <message>
        <source>Failed: {reason}</source>
        <translation>失败：{reason}</translation>
    </message>
    <message>
        <source>No PACS is configured: set its AE title, host and port in Preferences.</source>
        <translation>尚未配置 PACS：请在首选项中设置其 AE 名称、主机和端口。</translation>
    </message>
    <message>
        <source>&amp;DICOM</source>
        <translation>DICOM(&amp;D)</translation>
    </message>
    <message>
        <source>Export to &amp;DICOM (SEG, SR, PDF)…</source>
        <translation>导出为 DICOM(&amp;D)（SEG、SR、PDF）…</translation>
    </message>
    <message>
        <source>&amp;Send results to PACS</source>
        <translation>将结果发送到 PACS(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Query/retrieve from PACS…</source>
        <translation>从 PACS 查询/检索(&amp;Q)…</translation>
    </message>
    <message>
        <source>&amp;Receive from scanner</source>
        <translation>从扫描仪接收(&amp;R)</translation>
    </message>
</context>
<context>
    <name>presenter</name>
    <message>
        <source>DLRS Desktop — research use</source>
        <translation>DLRS Desktop — 仅供研究使用</translation>
    </message>
    <message>
        <source>unsaved image</source>
        <translation>未保存的图像</translation>
    </message>
    <message>
        <source>No image</source>
        <translation>无图像</translation>
    </message>
    <message>
        <source>Contour outside the calibrated ultrasound region</source>
        <translation>轮廓超出已校准的超声区域</translation>
    </message>
    <message>
        <source>Not calibrated — use the Calibrate tool (K)</source>
        <translation>未校准 — 请使用“校准”工具（K）</translation>
    </message>
    <message>
        <source>Reviewed by {reviewer} at {time}</source>
        <translation>已由 {reviewer} 于 {time} 审阅</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
</context>
<context>
    <name>reading</name>
    <message>
        <source>uncertain — the class changes within ±{offset} mm of the contour</source>
        <translation>不确定 — 轮廓在 ±{offset} mm 范围内变动时分类会改变</translation>
    </message>
    <message>
        <source>{uncertain} (as drawn: {category})</source>
        <translation>{uncertain}（按所勾画轮廓：{category}）</translation>
    </message>
</context>
<context>
    <name>report</name>
    <message>
        <source>Research use only</source>
        <translation>仅供研究使用</translation>
    </message>
    <message>
        <source>Patient name</source>
        <extracomment>(key, label); labels are translated where shown (`translate(&quot;report&quot;, label)`).</extracomment>
        <translation>患者姓名</translation>
    </message>
    <message>
        <source>Patient ID</source>
        <translation>患者 ID</translation>
    </message>
    <message>
        <source>Accession number</source>
        <translation>检查号</translation>
    </message>
    <message>
        <source>Study date</source>
        <translation>检查日期</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>操作者</translation>
    </message>
    <message>
        <source>reviewed</source>
        <translation>已审阅</translation>
    </message>
    <message>
        <source>draft</source>
        <translation>草稿</translation>
    </message>
    <message>
        <source>unreviewed</source>
        <translation>未审阅</translation>
    </message>
    <message>
        <source>Open an image before exporting a report.</source>
        <translation>导出报告前请先打开图像。</translation>
    </message>
    <message>
        <source>DLRS Desktop report</source>
        <translation>DLRS Desktop 报告</translation>
    </message>
    <message>
        <source>DLRS Desktop — {outcome} report</source>
        <translation>DLRS Desktop — {outcome}报告</translation>
    </message>
    <message>
        <source>{notice}. Not a diagnosis.</source>
        <translation>{notice}。并非诊断结论。</translation>
    </message>
    <message>
        <source>{label}: {value}</source>
        <translation>{label}：{value}</translation>
    </message>
    <message>
        <source>Image {hash} · frame {frame}/{frames} · {calibration} · report made {made}</source>
        <translation>图像 {hash} · 第 {frame}/{frames} 帧 · {calibration} · 报告生成于 {made}</translation>
    </message>
    <message>
        <source>not calibrated</source>
        <translation>未校准</translation>
    </message>
    <message>
        <source>DLRS Desktop {app_version} · model {model} {version} · model sha256 {sha}</source>
        <translation>DLRS Desktop {app_version} · 模型 {model} {version} · 模型 sha256 {sha}</translation>
    </message>
    <message>
        <source>Contour (yellow) · rings: {rings} (blue, orange, purple)</source>
        <translation>轮廓（黄色）· 瘤周环：{rings}（蓝、橙、紫）</translation>
    </message>
    <message>
        <source>Probability: only where the model computed it in this session for the exam&apos;s present contour; &apos;-&apos; otherwise (a result read from a file is not reported).</source>
        <translation>概率：仅当模型在本次会话中针对该检查当前的轮廓计算时才列出；否则为“-”（读取自文件的结果不予报告）。</translation>
    </message>
    <message>
        <source>Prediction</source>
        <translation>预测</translation>
    </message>
    <message>
        <source>No prediction was made for this contour.</source>
        <translation>未对此轮廓进行预测。</translation>
    </message>
    <message>
        <source>No verified prediction: the result stored in the annotation file was not re-computed on this computer, so it is not reported. Press Predict, then export again.</source>
        <translation>无已验证的预测：标注文件中保存的结果未在本机重新计算，因此不予报告。请点击“预测”，然后重新导出。</translation>
    </message>
    <message>
        <source>STALE: computed with another model than the one loaded now; press Predict for this model.</source>
        <translation>已过时：由与当前加载模型不同的模型计算；请点击“预测”以使用当前模型。</translation>
    </message>
    <message>
        <source>STALE: the contour changed after this prediction; it does not describe the contour shown.</source>
        <translation>已过时：此预测之后轮廓已更改；结果不描述当前显示的轮廓。</translation>
    </message>
    <message>
        <source>Outside the model&apos;s training domain: no class is shown</source>
        <translation>超出模型训练范围：不显示分类</translation>
    </message>
    <message>
        <source>{probability_of}: {value}</source>
        <translation>{probability_of}：{value}</translation>
    </message>
    <message>
        <source>Image shows the explanation map of {region}. {legend}.</source>
        <translation>图像显示的是{region}的解释图。{legend}。</translation>
    </message>
    <message>
        <source>Tumour and rings</source>
        <translation>肿瘤与瘤周环</translation>
    </message>
    <message>
        <source>Area {area} mm² · longest diameter {longest} mm · perpendicular {perpendicular} mm · perimeter {perimeter} mm</source>
        <translation>面积 {area} mm² · 最长径 {longest} mm · 垂直径 {perpendicular} mm · 周长 {perimeter} mm</translation>
    </message>
    <message>
        <source>{ring}: {area} mm², {outside} % outside the scan area  ⚠ leaves the scan area</source>
        <translation>{ring}：{area} mm²，{outside} % 超出扫描区域  ⚠ 超出扫描区域</translation>
    </message>
    <message>
        <source>{ring}: {area} mm², {outside} % outside the scan area</source>
        <translation>{ring}：{area} mm²，{outside} % 超出扫描区域</translation>
    </message>
    <message>
        <source>Review: {status} by {reviewer} at {time}</source>
        <translation>审阅：{status}，审阅者 {reviewer}，时间 {time}</translation>
    </message>
    <message>
        <source>Review: {status}</source>
        <translation>审阅：{status}</translation>
    </message>
</context>
<context>
    <name>style</name>
    <message>
        <source>Tumour</source>
        <extracomment>Rings in order of radius (the first three: 3, 5 and 10 mm by default), Okabe–Ito colours.</extracomment>
        <translation>肿瘤</translation>
    </message>
    <message>
        <source>Fusion</source>
        <translation>融合</translation>
    </message>
    <message>
        <source>Ring {radius} mm</source>
        <translation>{radius} mm 瘤周环</translation>
    </message>
    <message>
        <source>Radiomics, all</source>
        <translation>影像组学（全部）</translation>
    </message>
    <message>
        <source>Radiomics T+{radius} mm</source>
        <translation>影像组学 瘤内+{radius} mm</translation>
    </message>
</context>
<context>
    <name>tools</name>
    <message>
        <source>Assist</source>
        <translation>辅助</translation>
    </message>
    <message>
        <source>Drag a box around the lesion, click inside it, or Shift-drag along its longest diameter: a proposed outline, editable, one undo step. Ctrl+click takes a spot in, Ctrl+Shift+click leaves it out</source>
        <translation>在病灶周围拖出方框、在病灶内单击，或按住 Shift 沿病灶最长径拖动：生成可编辑的建议轮廓，一步即可撤销。Ctrl+单击将该处纳入轮廓，Ctrl+Shift+单击将其排除</translation>
    </message>
    <message>
        <source>Calibrated: {calibration}</source>
        <translation>已校准：{calibration}</translation>
    </message>
    <message>
        <source>None</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Pan</source>
        <translation>平移</translation>
    </message>
    <message>
        <source>Drag to move the image (middle button works in every tool)</source>
        <translation>拖动以移动图像（在任何工具下均可用鼠标中键平移）</translation>
    </message>
    <message>
        <source>Polygon</source>
        <translation>多边形</translation>
    </message>
    <message>
        <source>Click the vertices; double-click or Enter closes; Backspace removes the last; Esc cancels</source>
        <translation>单击添加顶点；双击或按 Enter 闭合；Backspace 删除最后一个顶点；Esc 取消</translation>
    </message>
    <message>
        <source>A contour needs at least 3 points.</source>
        <translation>轮廓至少需要 3 个点。</translation>
    </message>
    <message>
        <source>Freehand</source>
        <translation>手绘</translation>
    </message>
    <message>
        <source>Drag around the tumour; release closes the contour</source>
        <translation>沿肿瘤边缘拖动；松开鼠标即闭合轮廓</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>编辑</translation>
    </message>
    <message>
        <source>Drag a vertex; drag an edge to insert one; right-click, Shift+click or Delete removes a vertex</source>
        <translation>拖动顶点；拖动边以插入顶点；右键单击、Shift+单击或 Delete 删除顶点</translation>
    </message>
    <message>
        <source>A contour needs at least 3 vertices; use Clear to remove it.</source>
        <translation>轮廓至少需要 3 个顶点；如需删除请使用“清除”。</translation>
    </message>
    <message>
        <source>Ruler</source>
        <translation>标尺</translation>
    </message>
    <message>
        <source>Drag to measure a distance in millimetres</source>
        <translation>拖动以测量距离（毫米）</translation>
    </message>
    <message>
        <source>Ruler: drag from one point to the other (a click alone measures nothing).</source>
        <translation>标尺：从一点拖动到另一点（仅单击不会测量）。</translation>
    </message>
    <message>
        <source>Distance: {distance}</source>
        <translation>距离：{distance}</translation>
    </message>
    <message>
        <source>Calibrate</source>
        <translation>校准</translation>
    </message>
    <message>
        <source>Drag a line along the depth ruler, then type its length in mm</source>
        <translation>沿深度标尺拖出一条线，然后输入其长度（mm）</translation>
    </message>
    <message>
        <source>The line is {length} px long. How many millimetres is it?</source>
        <translation>该线长 {length} 像素。它对应多少毫米？</translation>
    </message>
    <message>
        <source>Manual calibration</source>
        <translation>手动校准</translation>
    </message>
    <message>
        <source>Brush</source>
        <translation>画笔</translation>
    </message>
    <message>
        <source>Drag to paint the tumour (2 mm brush); Shift+drag or right-drag erases</source>
        <translation>拖动以涂画肿瘤（2 mm 画笔）；Shift+拖动或右键拖动为擦除</translation>
    </message>
</context>
<context>
    <name>viewbar</name>
    <message>
        <source>Full range</source>
        <translation>全范围</translation>
    </message>
    <message>
        <source>More contrast</source>
        <translation>对比度更高</translation>
    </message>
    <message>
        <source>High contrast, dark tissue</source>
        <translation>高对比度，暗组织</translation>
    </message>
    <message>
        <source>Brighter</source>
        <translation>更亮</translation>
    </message>
    <message>
        <source>Darker</source>
        <translation>更暗</translation>
    </message>
    <message>
        <source>Brightness/contrast</source>
        <translation>亮度/对比度</translation>
    </message>
    <message>
        <source> Contrast </source>
        <translation> 对比度 </translation>
    </message>
    <message>
        <source>Right: more contrast (narrower window)</source>
        <translation>向右：对比度更高（窗宽更窄）</translation>
    </message>
    <message>
        <source> Brightness </source>
        <translation> 亮度 </translation>
    </message>
    <message>
        <source>Right: brighter (lower level)</source>
        <translation>向右：更亮（窗位更低）</translation>
    </message>
    <message>
        <source>Presets…</source>
        <translation>预设…</translation>
    </message>
    <message>
        <source>{name} (W {window} L {level})</source>
        <translation>{name}（窗宽 {window} 窗位 {level}）</translation>
    </message>
    <message>
        <source>Reset</source>
        <translation>复位</translation>
    </message>
    <message>
        <source>Full range (W)</source>
        <translation>全范围（W）</translation>
    </message>
    <message>
        <source> W {window} · L {level} </source>
        <translation> 窗宽 {window} · 窗位 {level} </translation>
    </message>
    <message>
        <source>▶ Play</source>
        <translation>▶ 播放</translation>
    </message>
    <message>
        <source>Frame –</source>
        <translation>帧 –</translation>
    </message>
    <message>
        <source>Frame {frame}/{count}</source>
        <translation>帧 {frame}/{count}</translation>
    </message>
    <message>
        <source>⏸ Pause</source>
        <translation>‖ 暂停</translation>
    </message>
</context>
<context>
    <name>worker</name>
    <message>
        <source>Internal error while running the model: {error}</source>
        <translation>运行模型时发生内部错误：{error}</translation>
    </message>
    <message>
        <source>The model was not found at {path}. Reinstall the application or choose a model in the Model menu.</source>
        <translation>在 {path} 未找到模型。请重新安装本程序，或在“模型”菜单中选择模型。</translation>
    </message>
    <message>
        <source>The model is still loading; try again in a moment.</source>
        <translation>模型仍在加载，请稍后再试。</translation>
    </message>
</context>
<context>
    <name>worklist</name>
    <message>
        <source>Image</source>
        <translation>图像</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Contour</source>
        <translation>轮廓</translation>
    </message>
    <message>
        <source>Calibration</source>
        <translation>校准</translation>
    </message>
    <message>
        <source>Frames</source>
        <translation>帧数</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>draft</source>
        <translation>草稿</translation>
    </message>
    <message>
        <source>reviewed</source>
        <translation>已审阅</translation>
    </message>
    <message>
        <source>All</source>
        <translation>全部</translation>
    </message>
    <message>
        <source>Draft</source>
        <translation>草稿</translation>
    </message>
    <message>
        <source>Reviewed</source>
        <translation>已审阅</translation>
    </message>
    <message>
        <source>No contour</source>
        <translation>无轮廓</translation>
    </message>
    <message>
        <source>cannot open</source>
        <translation>无法打开</translation>
    </message>
    <message>
        <source>{count} DICOM regions (per region)</source>
        <translation>{count} 个 DICOM 区域（按区域）</translation>
    </message>
    <message>
        <source>not calibrated</source>
        <translation>未校准</translation>
    </message>
    <message>
        <source>No folder</source>
        <translation>无文件夹</translation>
    </message>
    <message>
        <source>Show:</source>
        <translation>显示：</translation>
    </message>
    <message>
        <source>Click a row to open it; PgDown/PgUp move through the list</source>
        <translation>单击一行即可打开；PgDown/PgUp 在列表中移动</translation>
    </message>
    <message>
        <source> (stale)</source>
        <translation>（已过时）</translation>
    </message>
    <message>
        <source> (saved)</source>
        <translation>（已保存）</translation>
    </message>
    <message>
        <source>reviewed ({reviewer})</source>
        <translation>已审阅（{reviewer}）</translation>
    </message>
    <message>
        <source>new</source>
        <translation>新</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
</context>
</TS>
