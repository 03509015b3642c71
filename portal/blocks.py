"""The one StreamBlock that page bodies share (news today; family mottos later). Each block renders through
its own template in ``templates/blocks/`` so that pages only loop over ``page.body``."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("标题"), max_length=100)

    class Meta:
        icon = "title"
        label = _("小标题")
        template = "blocks/heading_block.html"


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("图片"))
    caption = blocks.CharBlock(label=_("图片说明"), required=False, max_length=200)

    class Meta:
        icon = "image"
        label = _("图片")
        template = "blocks/image_block.html"


class QuoteBlock(blocks.StructBlock):
    text = blocks.TextBlock(label=_("引文"), max_length=500)
    attribution = blocks.CharBlock(label=_("出处"), required=False, max_length=100)

    class Meta:
        icon = "openquote"
        label = _("引用")
        template = "blocks/quote_block.html"


class BodyBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(
        label=_("段落"), features=["bold", "italic", "link", "ol", "ul"], template="blocks/paragraph_block.html"
    )
    image = ImageBlock()
    quote = QuoteBlock()

    class Meta:
        label = _("正文")
